// Runs several `edge-agent` command lines through runCli in ONE process (started by runAgentBatch
// in cli.ts), so a test of many usage or config errors pays for one process start, not one each.
// Reads a JSON list of argument lists on stdin; prints a JSON list of {code, stdout, stderr}.
import { runCli } from "../../agent/cli";

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const runs = JSON.parse(Buffer.concat(chunks).toString("utf8")) as string[][];
  const realOut = process.stdout.write.bind(process.stdout);
  const results: { code: number; stdout: string; stderr: string }[] = [];
  for (const args of runs) {
    let stdout = "";
    let stderr = "";
    process.stdout.write = ((c: string | Uint8Array) => ((stdout += c.toString()), true)) as typeof process.stdout.write;
    process.stderr.write = ((c: string | Uint8Array) => ((stderr += c.toString()), true)) as typeof process.stderr.write;
    let code: number;
    try {
      code = await runCli(args);
    } catch (error) {
      code = 70;
      stderr += `internal error: ${(error as Error).stack}`;
    }
    results.push({ code, stdout, stderr });
  }
  realOut(JSON.stringify(results));
}

void main();
