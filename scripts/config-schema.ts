// Writes the config's JSON Schema (generated from agent/config/schema.ts) to stdout; the package
// ships the result as packaging/config.schema.json, and a unit test keeps that file current:
//   npx tsx scripts/config-schema.ts > packaging/config.schema.json
import { configJsonSchemaText } from "../agent/config/json-schema";

process.stdout.write(configJsonSchemaText());
