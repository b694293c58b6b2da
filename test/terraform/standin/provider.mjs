#!/usr/bin/env node
/**
 * A schema-only stand-in for the hashicorp/aws provider, so that `terraform validate` and `terraform test` (with
 * `mock_provider "aws"`) check the module against the provider's real schema without the provider binary.
 *
 * Usage: node provider.mjs <schema extract .json>. It serves Terraform's plugin protocol 5 (tfplugin5.proto, from
 * hashicorp/terraform-plugin-go, MPL-2.0) over a Unix socket and prints one line, the value for
 * TF_REATTACH_PROVIDERS. Terraform then talks to it as to a provider it started itself (go-plugin's reattach:
 * hashicorp/terraform internal/command/meta_providers.go, unmanaged providers; no download, no lock file entry).
 *
 * What it answers, and why that is enough (hashicorp/terraform at 883c7221ee2e):
 * - GetSchema: the extract. Terraform checks every argument, block, nesting and reference of the configuration
 *   against it (internal/configs/configschema), in `validate`, `plan` and `test` alike;
 * - PrepareProviderConfig, ValidateResourceTypeConfig, ValidateDataSourceConfig, Configure: no diagnostics. These are
 *   the provider's own value checks (an ARN's shape, an enum), which a schema cannot give: they are not proven here;
 * - GetResourceIdentitySchemas: none;
 * - in `terraform test`, a mocked provider (internal/providers/mock.go) calls only GetSchema, the validate calls and
 *   Stop on the real one; plan, apply and reads are answered by Terraform's mock from the schema. Anything else
 *   answers UNIMPLEMENTED, so that a call this stand-in cannot honour fails loudly.
 * - grpc.health.v1.Health answers SERVING for "plugin", as go-plugin's servers do.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const HERE = dirname(fileURLToPath(import.meta.url));
const PROVIDER = "registry.terraform.io/hashicorp/aws";

const HEALTH_PROTO = `
syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); }
`;

const NESTING = { single: "SINGLE", list: "LIST", set: "SET", map: "MAP", group: "GROUP" };

/** A block of `terraform providers schema -json` as a tfplugin5 Schema.Block. */
function toBlock(block) {
  return {
    version: 0,
    attributes: Object.entries(block.attributes ?? {}).map(([name, a]) => ({
      name,
      type: Buffer.from(JSON.stringify(a.type)),
      required: a.required === true,
      optional: a.optional === true,
      computed: a.computed === true,
      sensitive: a.sensitive === true,
    })),
    block_types: Object.entries(block.block_types ?? {}).map(([typeName, b]) => ({
      type_name: typeName,
      block: toBlock(b.block),
      nesting: NESTING[b.nesting_mode],
      min_items: b.min_items ?? 0,
      max_items: b.max_items ?? 0,
    })),
  };
}

function schemaResponse(file) {
  const extract = JSON.parse(readFileSync(file, "utf8"));
  const p = extract.provider_schemas[PROVIDER];
  const map = (schemas) =>
    Object.fromEntries(
      Object.entries(schemas).map(([k, s]) => [k, { version: s.version, block: toBlock(s.block) }]),
    );
  return {
    provider: { version: 0, block: toBlock(p.provider.block) },
    resource_schemas: map(p.resource_schemas),
    data_source_schemas: map(p.data_source_schemas),
    diagnostics: [],
    server_capabilities: { plan_destroy: true, get_provider_schema_optional: false },
  };
}

async function main() {
  const [file] = process.argv.slice(2);
  if (!file) {
    console.error("usage: provider.mjs <schema extract .json>");
    process.exit(2);
  }
  const schema = schemaResponse(file);
  const options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };
  const plugin = grpc.loadPackageDefinition(
    protoLoader.loadSync(join(HERE, "tfplugin5.proto"), options),
  ).tfplugin5;
  const dir = mkdtempSync(join(tmpdir(), "tf-standin-"));
  const healthFile = join(dir, "health.proto");
  require("node:fs").writeFileSync(healthFile, HEALTH_PROTO);
  const health = grpc.loadPackageDefinition(protoLoader.loadSync(healthFile, options)).grpc.health
    .v1;

  const ok = (value) => (_call, cb) => cb(null, value);
  const server = new grpc.Server();
  server.addService(plugin.Provider.service, {
    GetSchema: ok(schema),
    GetResourceIdentitySchemas: ok({ identity_schemas: {}, diagnostics: [] }),
    PrepareProviderConfig: (call, cb) =>
      cb(null, { prepared_config: call.request.config, diagnostics: [] }),
    ValidateResourceTypeConfig: ok({ diagnostics: [] }),
    ValidateDataSourceConfig: ok({ diagnostics: [] }),
    Configure: ok({ diagnostics: [] }),
    Stop: ok({ Error: "" }),
  });
  server.addService(health.Health.service, {
    Check: (call, cb) =>
      cb(null, { status: call.request.service === "plugin" ? "SERVING" : "SERVICE_UNKNOWN" }),
  });

  const socket = join(dir, "plugin.sock");
  await new Promise((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  const stop = () => {
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
  console.log(
    JSON.stringify({
      [PROVIDER]: {
        Protocol: "grpc",
        ProtocolVersion: 5,
        Pid: process.pid,
        Test: true,
        Addr: { Network: "unix", String: socket },
      },
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
