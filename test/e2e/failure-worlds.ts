/**
 * Worlds of the failure-class scenarios that the negative control replays against the drainer before the safety
 * core: one definition, so that both run exactly the same world.
 */
import { DrainerLauncher } from "../sim/launchers";
import { Simulation } from "../sim/simulation";
import { GroupSpec, ServiceSpec } from "../sim/world";
import { HOOK, startScenario } from "./harness";

export const WEB: ServiceSpec = {
  name: "web",
  desiredCount: 3,
  startSeconds: 5,
  deactivatingSeconds: 20,
  stoppingSeconds: 5,
};

export function group(name = "asg-a", instances = 3, heartbeatTimeout = 300): GroupSpec {
  return { name, instances, hooks: [{ name: HOOK, heartbeatTimeout }] };
}

/** The real bundle, or another drainer when one is given. */
const drainer = (launcher: DrainerLauncher | undefined) => (launcher ? { launcher } : {});

/**
 * Class 1: an empty instance, ListTasks a few seconds behind, and a job RunTask lands there right after ECS answers
 * the drainer's first DescribeContainerInstances (still ACTIVE): the view just read does not have it, and the
 * drainer's DRAINING call comes next.
 */
export async function jobBetweenReadAndDraining(launcher?: DrainerLauncher) {
  const sim = await startScenario({
    world: { groups: [group()], services: [] },
    faults: { listTasksLagSeconds: 3 },
    ...drainer(launcher),
  });
  const [id] = sim.scaleIn("asg-a", 1);
  let placed = false;
  sim.server.listeners.push((e) => {
    if (placed || e.op !== "DescribeContainerInstances" || e.outcome !== "ok") return;
    placed = true;
    sim.world.runTaskOn(id, {
      family: "job",
      pendingSeconds: 3,
      runSeconds: 40,
      stoppingSeconds: 5,
    });
  });
  return { sim, id, placed: () => placed };
}

/** Class 2: HeartbeatTimeout 40 s; the event's drainer starts 32 s after the action began; the drain takes 60 s more. */
export async function actionAlreadyOld(launcher?: DrainerLauncher): Promise<Simulation> {
  const sim = await startScenario({
    world: { groups: [group("asg-a", 3, 40)], services: [{ ...WEB, deactivatingSeconds: 60 }] },
    deliveryDelaySeconds: 32,
    ...drainer(launcher),
  });
  sim.scaleIn("asg-a", 1);
  return sim;
}

/** Class 5: an instance refresh that replaces root volumes holds an instance running a web task. */
export async function rootVolumeReplacement(launcher?: DrainerLauncher) {
  const sim = await startScenario({
    world: { groups: [group("asg-a", 3, 40)], services: [WEB] },
    ...drainer(launcher),
  });
  const [id] = sim.scaleIn("asg-a", 1, "replace-root-volume");
  return { sim, id };
}
