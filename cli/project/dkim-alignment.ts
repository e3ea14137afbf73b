import { mailboxDomain } from "../../schemas/common.js";
import { problem, type Problem } from "../problems.js";
import type { Repository, Resource } from "./reader.js";
import { locate, type PathSegment } from "./yaml-source.js";

/**
 * Whether a From domain aligns with the DKIM signing domain under DMARC's
 * relaxed rule (RFC 7489 3.1.1: the same organisational domain). mk ships no
 * public-suffix list, so it reads that as: the same domain, or one a
 * subdomain of the other. Two sibling subdomains (news.example.com and
 * mail.example.com) do align under DMARC but are reported here; signing with
 * the organisational domain (example.com) covers every subdomain.
 */
export function alignsWith(fromDomain: string, dkimDomain: string): boolean {
  const from = fromDomain.toLowerCase().replace(/\.$/, "");
  const signing = dkimDomain.toLowerCase().replace(/\.$/, "");
  return from === signing || from.endsWith(`.${signing}`) || signing.endsWith(`.${from}`);
}

interface Sender {
  resource: Resource;
  at: PathSegment[];
  mailbox: string;
  /** What sends from it: `defaults.from`, `campaign "x"`, … */
  label: string;
}

/** Every From a repository sets: mk.yaml's default and forms', each campaign's, sequence send step's and message's own. */
function senders(repo: Repository): Sender[] {
  const project = repo.project!;
  const list: Sender[] = [{ resource: project, at: ["defaults", "from"], mailbox: project.spec.defaults.from, label: "defaults.from" }];
  (project.spec.forms ?? []).forEach((form, i) => {
    if (form.from) list.push({ resource: project, at: ["forms", i, "from"], mailbox: form.from, label: `form "${form.name}"` });
  });
  for (const campaign of repo.campaigns) {
    if (campaign.spec.from) list.push({ resource: campaign, at: ["from"], mailbox: campaign.spec.from, label: `campaign "${campaign.name}"` });
  }
  for (const sequence of repo.sequences) {
    sequence.spec.steps.forEach((step, i) => {
      if ("send" in step && step.send.from) list.push({ resource: sequence, at: ["steps", i, "send", "from"], mailbox: step.send.from, label: `sequence "${sequence.name}" step ${i + 1}` });
    });
  }
  for (const message of repo.messages) {
    if (message.spec.from) list.push({ resource: message, at: ["from"], mailbox: message.spec.from, label: `message "${message.name}"` });
  }
  return list;
}

/**
 * mk.yaml's `sending.dkim` against how and from whom mail is sent: MK121
 * when the provider does not sign with it (SES signs with keys of its own,
 * the outbox keeps mail unsigned in the runtime's database), else MK119 for
 * each From whose domain does not align with the signing domain (DMARC
 * would not count the signature for it).
 */
export function dkimChecks(repo: Repository): Problem[] {
  const project = repo.project;
  const dkim = project?.spec.sending.dkim;
  if (!project || !dkim) return [];
  const { provider } = project.spec.sending;
  if (provider !== "smtp") {
    const why =
      provider === "ses"
        ? "SES signs every message with keys of its own (Easy DKIM or BYODKIM, set up in SES for the From domain)"
        : "the outbox keeps messages in the runtime's database and signs nothing";
    return [problem("MK121", locate(project.source, ["sending", "dkim"]), `sending.dkim signs SMTP messages only, and sending.provider is ${provider}: ${why}; remove sending.dkim, or set sending.provider: smtp`)];
  }
  return senders(repo).flatMap((sender) => {
    const domain = mailboxDomain(sender.mailbox);
    if (alignsWith(domain, dkim.domain)) return [];
    return [
      problem(
        "MK119",
        locate(sender.resource.source, sender.at),
        `${sender.label} sends from ${domain}, which does not align with sending.dkim.domain ${dkim.domain} (DMARC relaxed alignment: the same domain, or one a subdomain of the other): receivers that check DMARC will not count the signature; send from an address at ${dkim.domain}, or sign with a key of ${domain}`,
      ),
    ];
  });
}
