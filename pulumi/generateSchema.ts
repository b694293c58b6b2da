/**
 * Writes pulumi/schema.json from the components' types, formatted as the repository formats JSON:
 * `npx tsx pulumi/generateSchema.ts`. The schema test checks the committed file against a fresh one.
 */
import * as fs from "fs";
import * as prettier from "prettier";
import { SCHEMA_PATH, renderSchema } from "./provider";

/** Writes `text` (the schema) to pulumi/schema.json, formatted with the repository's Prettier settings. */
export async function writeSchema(text: string): Promise<void> {
  const options = (await prettier.resolveConfig(SCHEMA_PATH)) ?? {};
  fs.writeFileSync(SCHEMA_PATH, await prettier.format(text, { ...options, parser: "json" }));
}

if (require.main === module) {
  renderSchema()
    .then(writeSchema)
    .then(
      () => console.log(`wrote ${SCHEMA_PATH}`),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
}
