/**
 * ECS scale-in drainer: a Pulumi component package. `ScaleInDrainer` is the component to use; the others are its
 * parts, exported for readers and for programs that want one of them alone.
 */
export { ScaleInDrainer, ScaleInDrainerArgs } from "./scaleInDrainer";
export { DrainerImage, DrainerImageArgs } from "./drainerImage";
export { DrainerTask, DrainerTaskArgs, DrainerEnvironmentVariable } from "./drainerTask";
export { ScaleInHook, ScaleInHookArgs } from "./scaleInHook";
export { LaunchType } from "./launchType";
export { CpuArchitecture } from "./cpuArchitecture";
export { LifecycleResult } from "../drainer/src/contract";
export * from "./policies";
export * from "./lifecycleEvent";
export { TARGET_RETRY_POLICY, drainerEcsTarget } from "./ecsTarget";
export { ArgProblem, checkScaleInDrainerArgs } from "./validation";
