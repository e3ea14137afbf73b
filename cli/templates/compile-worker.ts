/** Piscina worker: compiles templates off the main thread (see compile-pool.ts). */
import "mjml";
import { compileJob } from "./compile-job.js";

export default compileJob;
