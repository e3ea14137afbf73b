import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unknownVariableReason } from "../../../cli/templates/variables.js";

describe("the variables a template may use", { timeout: 10_000 }, () => {
  it("has {{confirmUrl}} only in a form's confirmation email, and names what a campaign can use instead", () => {
    const campaign = { label: 'campaign "launch"', data: {} };
    assert.equal(unknownVariableReason("confirmUrl", campaign), "confirmUrl is only set in a form's confirmation email (forms: in mk.yaml)");
    assert.equal(unknownVariableReason("confirmUrl", { ...campaign, confirmation: true }), undefined);
    assert.equal(unknownVariableReason("preferencesUrl", campaign), undefined);
    assert.match(unknownVariableReason("confirmUrl.x", { ...campaign, confirmation: true }) ?? "", /^no variable "confirmUrl\.x"; templates can use .*preferencesUrl/);
  });
});
