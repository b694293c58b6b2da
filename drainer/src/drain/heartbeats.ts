/**
 * The heartbeat keeper (rule 2). Every action the run answers for gets a heartbeat as soon as the run starts, and
 * then every interval, on a timer of its own: a slow poll, an ECS outage or a hung request never delays one. Each
 * call is sent on its own and awaited by nobody; the SDK's request timeout (rule 5) ends a hung one. A failed
 * heartbeat is retried soon; only "No active Lifecycle Action" (or a permanent error) ends them.
 */
import { isNoActiveLifecycleAction } from "../aws";
import { failed, outcomeOf, settle } from "./endings";
import { InstanceState, Run, active, heartbeatSeconds } from "./state";

/** At most this many heartbeats of one action in flight: a hung one does not stop the next, nor do they pile up. */
const IN_FLIGHT_AT_MOST = 2;

export async function keepHeartbeats(run: Run): Promise<void> {
  const { ctx } = run;
  const pollMs = ctx.config.pollIntervalSeconds * 1000;
  while (!run.signal.aborted) {
    // Until the run ends: a leader with nothing held for a moment may take an action on at any time.
    const mine = active(run);
    const now = ctx.now();
    for (const s of mine) if (s.nextHeartbeatAt <= now) beat(run, s, now);
    // Wake at least every poll interval, so that a plan learnt meanwhile (a shorter interval) takes effect.
    const next = Math.min(...mine.map((s) => s.nextHeartbeatAt), now + pollMs);
    await ctx.sleep(Math.max(0, next - ctx.now()), run.signal);
  }
}

/** Rule 2 for an action taken on while the keeper sleeps (a leader's newcomer): its first heartbeat now. */
export function beatAtOnce(run: Run, s: InstanceState): void {
  if (!s.outcome && s.nextHeartbeatAt <= run.ctx.now()) beat(run, s, run.ctx.now());
}

function beat(run: Run, s: InstanceState, now: number): void {
  const { ctx } = run;
  const interval = heartbeatSeconds(ctx.config, s) * 1000;
  s.nextHeartbeatAt = now + interval;
  s.lastHeartbeatAt = now;
  if (ctx.config.dryRun) {
    s.log.log("info", "would record a lifecycle heartbeat", { action: "heartbeat" });
    return;
  }
  if (s.heartbeatsInFlight >= IN_FLIGHT_AT_MOST) return;
  s.heartbeatsInFlight++;
  run.port
    .recordHeartbeat(s.ref)
    .then(
      () => s.log.log("debug", "recorded a lifecycle heartbeat", { action: "heartbeat" }),
      (err) => {
        if (s.outcome) return;
        if (isNoActiveLifecycleAction(err)) {
          // Before the instance's state is read, the event may be stale: the drain's start decides then.
          if (!s.confirmed || s.closing) return;
          s.log.log("info", "the lifecycle action is already complete; stopping", {
            action: "heartbeat",
          });
          settle(run, s, outcomeOf(run, s, "already-complete"));
          return;
        }
        // Tried again soon rather than a whole interval later.
        const retryAt = ctx.now() + Math.min(ctx.config.pollIntervalSeconds * 1000, interval / 4);
        s.nextHeartbeatAt = Math.min(s.nextHeartbeatAt, retryAt);
        failed(run, s, "recording a lifecycle heartbeat", err);
      },
    )
    .finally(() => s.heartbeatsInFlight--);
}
