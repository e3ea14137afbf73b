import type { TestSendRequest } from "../../schemas/test-send.js";

/** A stand-in for the runtime client of `mk send test` that keeps each proof it is given (no --as: it knows no subscriber). */
export function recordingProofClient(): { bodies: TestSendRequest[]; client: { subscriber: () => Promise<never>; sendTest: (body: TestSendRequest) => Promise<{ sent: { to: string; id: string; transport: string }[] }> } } {
  const bodies: TestSendRequest[] = [];
  const client = {
    subscriber: () => Promise.reject(new Error("no --as")),
    sendTest: async (body: TestSendRequest) => {
      bodies.push(body);
      return { sent: [{ to: body.to[0]!, id: "1", transport: "outbox" }] };
    },
  };
  return { bodies, client };
}
