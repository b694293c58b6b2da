/** The sample lifecycle event of drainer/AWS-FACTS.md, verbatim (group `my-asg`, hook `my-hook`). */
export const SAMPLE_EVENT = {
  version: "0",
  id: "12345678-1234-1234-1234-123456789012",
  "detail-type": "EC2 Instance-terminate Lifecycle Action",
  source: "aws.autoscaling",
  account: "123456789012",
  time: "2026-11-25T10:00:00Z",
  region: "us-west-2",
  resources: [
    "arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:11111111-2222-3333-4444-555555555555:autoScalingGroupName/my-asg",
  ],
  detail: {
    LifecycleActionToken: "87654321-4321-4321-4321-210987654321",
    AutoScalingGroupName: "my-asg",
    LifecycleHookName: "my-hook",
    EC2InstanceId: "i-1234567890abcdef0",
    LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
    NotificationMetadata: "additional-info",
    Origin: "AutoScalingGroup",
    Destination: "EC2",
  },
} as const;

/**
 * What EventBridge does with an input transformer: each `<placeholder>` becomes the JSON value at its path in the
 * event (strings arrive quoted, unescaped). Supports the `$.a.b` paths the component uses; an absent one gives null.
 */
export function applyInputTransformer(
  transformer: { inputPaths: Record<string, string>; inputTemplate: string },
  event: unknown,
): string {
  return transformer.inputTemplate.replace(
    /<([A-Za-z0-9_.-]+)>/g,
    (_match, placeholder: string) => {
      const path = transformer.inputPaths[placeholder];
      if (path === undefined) throw new Error(`placeholder <${placeholder}> has no input path`);
      if (!/^\$(\.[A-Za-z0-9_-]+)+$/.test(path)) throw new Error(`unsupported path ${path}`);
      let value: unknown = event;
      for (const key of path.slice(2).split(".")) {
        value = (value as Record<string, unknown> | undefined)?.[key];
      }
      // A path absent from the event (Action, outside root-volume replacements) becomes null, which the drainer
      // treats as unset. This is how the simulator renders it too; a `pulumi preview` against AWS is the real check.
      if (value === undefined) return "null";
      return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
    },
  );
}

/**
 * Whether an EventBridge pattern of exact values matches an event: every field of the pattern is in the event, and
 * each leaf array lists the event's value. (The component's patterns use only exact matching.)
 */
export function patternMatches(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) {
    if (!pattern.every((p) => ["string", "number", "boolean"].includes(typeof p))) {
      throw new Error(`not an exact-match pattern: ${JSON.stringify(pattern)}`);
    }
    return pattern.includes(event as string);
  }
  if (pattern === null || typeof pattern !== "object") {
    throw new Error(`not a pattern: ${JSON.stringify(pattern)}`);
  }
  if (event === null || typeof event !== "object") return false;
  return Object.entries(pattern).every(([key, sub]) =>
    patternMatches(sub, (event as Record<string, unknown>)[key]),
  );
}
