/** Constructs the component under the recording mocks (harness.ts is imported first, so the mocks come first). */
import { recorded, reset, settle } from "./harness";
import { ScaleInDrainer, ScaleInDrainerArgs } from "../../pulumi";

/** Constructs a ScaleInDrainer and waits for every registration. Provider resources are not recorded as children. */
export async function deploy(name: string, args: ScaleInDrainerArgs): Promise<ScaleInDrainer> {
  reset();
  const drainer = new ScaleInDrainer(name, args);
  await settle();
  const own = recorded.filter((r) => !r.type.startsWith("pulumi:providers:"));
  recorded.length = 0;
  recorded.push(...own);
  return drainer;
}
