import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The example's templates: its partials, and any template mk.yaml names (a form's confirmation). */
const TEMPLATES = fileURLToPath(new URL("../example-campaigns/templates/", import.meta.url));
const MK_YAML = fileURLToPath(new URL("../example-campaigns/mk.yaml", import.meta.url));
const COUNTRIES = ["TH", "VN", "ID", "MY", "PT", "ES", "MX", "CO", "GE", "DE"];
const ZONES = ["Asia/Bangkok", "Asia/Ho_Chi_Minh", "Europe/Lisbon", "America/Mexico_City", "recipient"];

/**
 * A campaigns repository of `campaigns` campaigns, each with its own MJML
 * template built on the example's shared partials, spread over ten
 * audiences; every fourth campaign is an A/B test. It validates clean.
 */
export async function generateRepository(dir: string, campaigns: number): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const folder of ["audiences", "campaigns"]) await mkdir(path.join(dir, folder), { recursive: true });
  await cp(MK_YAML, path.join(dir, "mk.yaml"));
  await cp(TEMPLATES, path.join(dir, "templates"), { recursive: true });

  await Promise.all(
    COUNTRIES.map((country) =>
      writeFile(
        path.join(dir, "audiences", `buyers-${country.toLowerCase()}.yaml`),
        `apiVersion: mk/v1\nkind: Audience\nwhere:\n  all:\n    - consent: marketing\n    - country: { in: [${country}] }\n    - { event: purchase, within: 90d }\n`,
      ),
    ),
  );

  const files: [string, string][] = [];
  for (let i = 0; i < campaigns; i++) {
    const name = `campaign-${String(i).padStart(4, "0")}`;
    const country = COUNTRIES[i % COUNTRIES.length] as string;
    const zone = ZONES[i % ZONES.length] as string;
    const variants = i % 4 === 0 ? `variants:\n  - { name: a, weight: 50 }\n  - { name: b, weight: 50, subject: "Offer ${i}: last chance" }\n` : "";
    files.push([
      `campaigns/${name}.yaml`,
      `apiVersion: mk/v1\nkind: Campaign\nsubject: "{{default subscriber.firstName \\"Hi\\"}}, offer ${i} is here"\npreheader: "Offer ${i} for members in {{campaign.data.city}}"\n` +
        `template: templates/${name}.mjml\naudience: buyers-${country.toLowerCase()}\n` +
        `schedule:\n  at: "2099-0${(i % 9) + 1}-01T09:00:00"\n  timezone: ${zone}\n${zone === "recipient" ? '  window: "09:00-12:00"\n' : ""}` +
        `${variants}data: { city: City${i}, code: CODE${i}, price: ${1000 + i} }\n`,
    ]);
    files.push([
      `templates/${name}.mjml`,
      `<mjml>\n  <mj-head>\n    <mj-include path="./partials/styles.mjml" />\n  </mj-head>\n  <mj-body background-color="#f6f7f9">\n    <mj-include path="./partials/header.mjml" />\n` +
        `    <mj-section background-color="#ffffff" padding="24px">\n      <mj-column>\n` +
        `        <mj-image src="https://assets.example/${name}.jpg" alt="Offer ${i} in {{campaign.data.city}}" />\n` +
        `        <mj-text font-size="22px">Hi {{default subscriber.firstName "there"}}, offer ${i} in {{campaign.data.city}}</mj-text>\n` +
        `        <mj-text>Use {{campaign.data.code}} for {{formatMoney campaign.data.price "USD"}} off{{#if subscriber.attributes.plan}} your {{subscriber.attributes.plan}} plan{{/if}}.</mj-text>\n` +
        `        <mj-button href="https://nomaddesk.example/offers/${i}">See the offer</mj-button>\n      </mj-column>\n    </mj-section>\n` +
        `    <mj-include path="./partials/footer.mjml" />\n  </mj-body>\n</mjml>\n`,
    ]);
  }
  await Promise.all(files.map(([file, text]) => writeFile(path.join(dir, file), text)));
}
