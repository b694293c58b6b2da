import { DEFAULTS } from "../drainer/src/contract";

/** How ECS runs the drainer's task. */
export enum LaunchType {
  /** On AWS Fargate: the drainer does not need room on the instances it drains. */
  Fargate = "FARGATE",
  /** On the cluster's EC2 instances (awsvpc network mode; no public IP). */
  Ec2 = "EC2",
}

/** The contract's default launch type, as the enum. */
export const DEFAULT_LAUNCH_TYPE: LaunchType = Object.values(LaunchType).find(
  (v) => v === DEFAULTS.launchType,
)!;
