import type { GraphStore } from '@yijian/knowledge-graph';
import { z } from 'zod';
import { foldText, routeKind, toMg } from './normalise.js';
import { RESOURCES_DIR, readYamlFile } from './resources.js';
import type { DoseClass, MedicationFact } from './types.js';

const wordsSchema = z.strictObject({ words: z.array(z.string().min(1)).min(1), site: z.string().min(1) });

export const routesFileSchema = z.strictObject({
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  localRoutes: z.array(wordsSchema),
  systemicRouteKinds: z.array(z.enum(['oral', 'iv', 'im', 'sc', 'topical', 'inhaled', 'rectal', 'other'])),
  localForms: z.array(wordsSchema),
  systemicForms: z.array(z.string().min(1)),
  graphLocalRoutes: z.array(z.string().min(1)),
});
export type RoutesFile = z.infer<typeof routesFileSchema>;

let cached: RoutesFile | undefined;
/** The packaged route/form table (resources/routes.yaml), validated once per process. */
export function routeTable(): RoutesFile {
  cached ??= readYamlFile(new URL('routes.yaml', RESOURCES_DIR), routesFileSchema);
  return cached;
}

export interface Administration {
  systemic: boolean;
  /**
   * The linked concept itself is a local preparation (all its graph routes are local): its own
   * graph relations were written for that preparation and still apply.
   */
  localProduct?: boolean;
  /** Why the order counts as local (Chinese), e.g. 剂型「滴眼液」（眼）. */
  localBasis?: string;
}

/**
 * Is an order systemic or a local eye/ear/skin preparation? Read from the written form in the name,
 * the written route and the drug concept's graph routes (in that order of strength: a transdermal
 * patch is systemic whatever the route says; an injection route is systemic whatever the name).
 */
export function classifyAdministration(
  name: string,
  route: string | undefined,
  graphRoutes: readonly string[] | undefined,
  table: RoutesFile = routeTable(),
): Administration {
  const n = foldText(name).toLowerCase();
  const localProduct =
    graphRoutes !== undefined &&
    graphRoutes.length > 0 &&
    graphRoutes.every((r) => table.graphLocalRoutes.includes(r));
  const local = (localBasis: string): Administration => ({
    systemic: false,
    localBasis,
    ...(localProduct ? { localProduct: true } : {}),
  });
  if (table.systemicForms.some((w) => n.includes(foldText(w).toLowerCase()))) return { systemic: true };
  if (route) {
    const kind = routeKind(route);
    if (kind && table.systemicRouteKinds.includes(kind as never)) return { systemic: true };
    const r = foldText(route).toLowerCase();
    for (const g of table.localRoutes)
      if (g.words.some((w) => r === foldText(w).toLowerCase() || r.includes(foldText(w).toLowerCase())))
        return local(`给药途径「${route}」（${g.site}局部）`);
  }
  for (const g of table.localForms) {
    const w = g.words.find((x) => n.includes(foldText(x).toLowerCase()));
    if (w) return local(`剂型「${w}」（${g.site}局部）`);
  }
  if (localProduct) return local(`知识图谱：仅有局部给药途径（${graphRoutes!.join('、')}）`);
  return { systemic: true };
}

type DoseDependentClass = { class: string; minDailyDose: number; unit: string; note?: string };

/**
 * The dose-dependent classes (graph `props.doseDependentClasses`) an order belongs to. The daily dose
 * is the single dose times the frequency; when the frequency is unknown the single dose is a lower
 * bound (a 500 mg order is at least 500 mg/d). Unknown doses add nothing.
 */
export async function doseClassesOf(
  m: Pick<MedicationFact, 'dose' | 'doseUnit' | 'timesPerDay' | 'once' | 'conceptName'>,
  props: Record<string, unknown> | undefined,
  graph: GraphStore,
): Promise<DoseClass[]> {
  const list = (props?.doseDependentClasses as DoseDependentClass[] | undefined) ?? [];
  if (list.length === 0 || m.dose === undefined) return [];
  const single = toMg(m.dose, m.doseUnit);
  if (single === undefined) return [];
  const daily = m.once || m.timesPerDay === undefined ? single : single * m.timesPerDay;
  const out: DoseClass[] = [];
  for (const d of list) {
    const min = toMg(d.minDailyDose, d.unit);
    if (min === undefined || daily < min) continue;
    const cls = await graph.conceptById(d.class);
    if (!cls) continue;
    const anc = await graph.ancestors(cls.id);
    const per = m.once || m.timesPerDay === undefined ? '单次剂量' : '日剂量';
    out.push({
      id: cls.id,
      name: cls.name,
      ancestorIds: [cls.id, ...anc.map((a) => a.id)],
      ancestorNames: [cls.name, ...anc.map((a) => a.name)],
      basis: `${m.conceptName}${per} ${Math.round(daily * 100) / 100} mg ≥ ${min} mg：按${cls.name}（${anc.map((a) => a.name).join('、') || cls.name}）审核${d.note ? `（${d.note}）` : ''}`,
    });
  }
  return out;
}
