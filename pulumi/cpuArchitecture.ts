import { CPU_ARCHITECTURE_PLATFORMS, DEFAULT_CPU_ARCHITECTURE } from "../drainer/src/contract";

/** The CPU architecture of the drainer's task, and of the image the component builds for it. */
export enum CpuArchitecture {
  /** x86-64 (linux/amd64). */
  X86_64 = "X86_64",
  /** 64-bit ARM, AWS Graviton (linux/arm64): about 20% cheaper on Fargate. */
  Arm64 = "ARM64",
}

/** The contract's default CPU architecture, as the enum. */
export const DEFAULT_CPU_ARCHITECTURE_ENUM: CpuArchitecture = Object.values(CpuArchitecture).find(
  (v) => v === DEFAULT_CPU_ARCHITECTURE,
)!;

/** The Docker platform an image for `architecture` is built for (`linux/amd64`, `linux/arm64`). */
export function dockerPlatform(architecture: CpuArchitecture): string {
  return CPU_ARCHITECTURE_PLATFORMS[architecture];
}
