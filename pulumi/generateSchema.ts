/** Writes pulumi/schema.json from the components' types: `npx tsx pulumi/generateSchema.ts`. */
import * as fs from "fs";
import { SCHEMA_PATH, renderSchema } from "./provider";

renderSchema().then(
  (schema) => {
    fs.writeFileSync(SCHEMA_PATH, schema);
    console.log(`wrote ${SCHEMA_PATH}`);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
