// Where the checkout is, for helpers that start its programs or read its files.
import { resolve } from "node:path";

export const REPO_ROOT = resolve(__dirname, "../..");
