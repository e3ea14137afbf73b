import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveRepositoryFile } from "../../cli/project/repository-paths.js";
import { validateRepository } from "../../cli/validation.js";
import { runMk } from "../helpers/run-mk.js";
import { tempRepo } from "../helpers/temp-repo.js";

/**
 * mk reads only files inside the repository, symbolic links followed, and
 * nothing under .git/ or .mk/ (MK047). The links are made here, in temporary
 * copies of the minimal fixture, because git keeps no symlink portably.
 * Each refused file holds SECRET as valid MJML, so had it been read it would
 * have been compiled into the template and shown.
 */
const SECRET = "aws_secret_access_key=mk-test-7f3a9c";
const SECRET_PARTIAL = `<mj-section><mj-column><mj-text>${SECRET}</mj-text></mj-column></mj-section>`;
const SECRET_TEMPLATE = `<mjml><mj-body>${SECRET_PARTIAL}<mj-section><mj-column><mj-text>{{project.postalAddress}} <a href="{{unsubscribeUrl}}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`;

/** The minimal fixture's template with an include on line 9, column 5. */
const withInclude = (include: string) => `<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hello {{default subscriber.firstName "there"}}</mj-text>
        <mj-text>{{project.postalAddress}} · <a href="{{unsubscribeUrl}}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
    <mj-include path="${include}" />
  </mj-body>
</mjml>
`;

let outside = "";
const repos: string[] = [];
before(async () => {
  outside = await mkdtemp(path.join(tmpdir(), "mk-outside-"));
  await writeFile(path.join(outside, "credentials"), SECRET_PARTIAL);
  await writeFile(path.join(outside, "mk.yaml"), `apiVersion: mk/v1\nkind: Project\nname: [${SECRET}\n`);
}, { timeout: 10_000 });
after(() => Promise.all([outside, ...repos].map((dir) => rm(dir, { recursive: true, force: true }))), { timeout: 10_000 });

/** A copy of the minimal fixture, changed by `setup` (given the root and a writer). */
async function repository(setup: (root: string, write: (file: string, text: string) => Promise<void>) => Promise<void>): Promise<string> {
  const repo = await tempRepo();
  repos.push(repo.root);
  await setup(repo.root, repo.write);
  return repo.root;
}

/** A partial linked to a file outside the repository. */
const partialOutside = () =>
  repository(async (root, write) => {
    await write("templates/hello.mjml", withInclude("./partials/footer.mjml"));
    await mkdir(path.join(root, "templates", "partials"));
    await symlink(path.join(outside, "credentials"), path.join(root, "templates", "partials", "footer.mjml"));
  });

const problemsOf = (stdout: string) => (JSON.parse(stdout) as { file: string; line: number; col: number; code: string; message: string }[]).map((p) => `${p.file}:${p.line}:${p.col} ${p.code} ${p.message}`);

describe("mk reads nothing outside the repository, nor under .git/ or .mk/", { timeout: 120_000, concurrency: true }, () => {
  it("validate refuses a partial linked out of the repository, at its mj-include, without reading it", async () => {
    const run = await runMk(["validate", "--json", "--dir", await partialOutside()]);
    assert.deepEqual(problemsOf(run.stdout), [
      "templates/hello.mjml:9:5 MK047 mj-include file templates/partials/footer.mjml is a symbolic link (or goes through one) to outside the repository, which mk never reads; copy the file into the repository instead of linking to it",
    ]);
    assert.equal(run.code, 1);
    assert.doesNotMatch(run.stdout + run.stderr, /mk-test-7f3a9c/);
  });

  it("what plan and apply send holds nothing of the refused partial", async () => {
    const validation = await validateRepository({ dir: await partialOutside() });
    assert.deepEqual(validation.problems.map((p) => p.code), ["MK047"]);
    assert.equal(validation.templates.size, 0);
    assert.doesNotMatch(JSON.stringify({ ...validation, templates: [...validation.templates] }), /mk-test-7f3a9c/);
  });

  it("render refuses the same repository without showing the partial", async () => {
    const run = await runMk(["render", "hello", "--dir", await partialOutside()]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /MK062/);
    assert.equal(run.stdout, "");
    assert.doesNotMatch(run.stdout + run.stderr, /mk-test-7f3a9c/);
  });

  it("a template linked into .git/ is refused at template:, by validate and by render", async () => {
    const root = await repository(async (root, write) => {
      await write(".git/config", SECRET_TEMPLATE);
      await rm(path.join(root, "templates", "hello.mjml"));
      await symlink("../.git/config", path.join(root, "templates", "hello.mjml"));
    });
    const [validate, render] = await Promise.all([runMk(["validate", "--json", "--dir", root]), runMk(["render", "hello", "--dir", root])]);
    assert.deepEqual(problemsOf(validate.stdout), [
      "campaigns/hello.yaml:5:11 MK047 template templates/hello.mjml is a symbolic link (or goes through one) into .git/ (git's own data), which mk never reads; point it at a file elsewhere in the repository",
    ]);
    assert.equal(validate.code, 1);
    assert.equal(render.code, 1);
    assert.doesNotMatch(validate.stdout + validate.stderr + render.stdout + render.stderr, /mk-test-7f3a9c/);
  });

  it("an include of .mk/…, written plainly or URL-encoded the way mjml decodes it, is refused", async () => {
    const root = await repository(async (_root, write) => {
      await write(".mk/partials/footer.mjml", SECRET_PARTIAL);
      await write(".git/config", SECRET_PARTIAL);
      await write("templates/hello.mjml", withInclude("../.mk/partials/footer.mjml"));
      // As written, a harmless file; mjml would decode it to ../.git/config.
      await write("templates/%2e%2e/%2egit/config", "<mj-section><mj-column><mj-text>decoy</mj-text></mj-column></mj-section>");
      await write("templates/encoded.mjml", withInclude("%2e%2e/%2egit/config"));
      await write("campaigns/encoded.yaml", "apiVersion: mk/v1\nkind: Campaign\nsubject: Hi\npreheader: Hi\ntemplate: templates/encoded.mjml\naudience: everyone\n");
    });
    const run = await runMk(["validate", "--json", "--dir", root]);
    assert.deepEqual(problemsOf(run.stdout), [
      "templates/encoded.mjml:9:5 MK047 mj-include file .git/config is in .git/ (git's own data), which mk never reads; use a file elsewhere in the repository",
      "templates/hello.mjml:9:5 MK047 mj-include file .mk/partials/footer.mjml is in .mk/ (mk's local data), which mk never reads; use a file elsewhere in the repository",
    ]);
    assert.equal(run.code, 1);
    assert.doesNotMatch(run.stdout + run.stderr, /mk-test-7f3a9c/);
  });

  it("an mk.yaml linked out of the repository is refused unread", async () => {
    const root = await repository(async (root) => {
      await rm(path.join(root, "mk.yaml"));
      await symlink(path.join(outside, "mk.yaml"), path.join(root, "mk.yaml"));
    });
    const run = await runMk(["validate", "--json", "--dir", root]);
    assert.deepEqual(problemsOf(run.stdout), [
      "mk.yaml:1:1 MK047 mk.yaml is a symbolic link (or goes through one) to outside the repository, which mk never reads; copy the file into the repository instead of linking to it",
    ]);
    assert.equal(run.code, 1);
    assert.doesNotMatch(run.stdout + run.stderr, /mk-test-7f3a9c/);
  });

  it("links that stay inside the repository keep working: a partial, a template folder and a campaign file", async () => {
    const root = await repository(async (root, write) => {
      await write("shared/footer.mjml", "<mj-section><mj-column><mj-text>Footer from shared/</mj-text></mj-column></mj-section>");
      await write("shared/templates/hello.mjml", withInclude("./partials/footer.mjml"));
      await mkdir(path.join(root, "shared", "templates", "partials"));
      await symlink("../../footer.mjml", path.join(root, "shared", "templates", "partials", "footer.mjml"));
      await rm(path.join(root, "templates"), { recursive: true });
      await symlink("shared/templates", path.join(root, "templates"));
      await write("shared/campaign.yaml", "apiVersion: mk/v1\nkind: Campaign\nname: linked\nsubject: Hi\npreheader: Hi\ntemplate: templates/hello.mjml\naudience: everyone\n");
      await symlink("../shared/campaign.yaml", path.join(root, "campaigns", "linked.yaml"));
    });
    const [validate, render] = await Promise.all([runMk(["validate", "--json", "--dir", root]), runMk(["render", "linked", "--dir", root])]);
    assert.deepEqual(problemsOf(validate.stdout), []);
    assert.equal(validate.code, 0);
    assert.equal(render.code, 0, render.stderr);
    assert.match(render.stdout, /Footer from shared\//);
  });
});

describe("resolveRepositoryFile", { timeout: 10_000 }, () => {
  it("follows a link inside the repository, refuses one out of it and .git/ in any case, and tells missing from refused", async () => {
    const root = await repository(async (root, write) => {
      await write(".git/config", "[core]");
      await symlink(outside, path.join(root, "elsewhere"));
      await symlink("templates", path.join(root, "views"));
    });
    assert.deepEqual(await resolveRepositoryFile(root, "views/hello.mjml"), { status: "readable", realPath: path.join(await realpath(root), "templates", "hello.mjml") });
    assert.deepEqual(await resolveRepositoryFile(root, "elsewhere/credentials"), { status: "refused", refusal: { reason: "link-outside" } });
    assert.deepEqual(await resolveRepositoryFile(root, ".GIT/config"), { status: "refused", refusal: { reason: "private-folder", folder: ".git", throughLink: false } });
    assert.deepEqual(await resolveRepositoryFile(root, "templates/none.mjml"), { status: "missing" });
    assert.deepEqual(await resolveRepositoryFile(root, "templates/a\0b.mjml"), { status: "missing" });
  });
});
