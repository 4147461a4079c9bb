import type { Linker, MemoryGraph } from '@yijian/knowledge-graph';
import type { ConceptResolver, ResolvedConcept } from './consistency.js';

/**
 * A concept resolver over the in-memory knowledge graph: codes through the graph's code index (ICD-10 for
 * diagnoses, ICD-9-CM-3 for procedures, falling back to shorter code prefixes), names and mention texts
 * through the linker. Results are cached per code or text.
 */
export function createGraphResolver(graph: MemoryGraph, linker: Linker): ConceptResolver {
  const cache = new Map<string, ResolvedConcept | undefined>();
  const lineage = (id: string): ResolvedConcept => ({
    id,
    lineage: new Set([id, ...graph.ancestorsSync(id).map((c) => c.id)]),
  });
  const byText = (kind: 'diagnosis' | 'procedure', text: string): ResolvedConcept | undefined => {
    const key = `t|${kind}|${text}`;
    if (cache.has(key)) return cache.get(key);
    const result = linker.link(text, { kind: kind === 'diagnosis' ? 'Disease' : 'Procedure' });
    const best = result.linked ? result.candidates[0] : undefined;
    const out = best ? lineage(best.conceptId) : undefined;
    cache.set(key, out);
    return out;
  };
  return {
    coded(kind, code, name) {
      if (code?.trim()) {
        const key = `c|${kind}|${code}`;
        if (!cache.has(key)) {
          const concept = graph.conceptByCodeSync(
            kind === 'diagnosis' ? 'ICD-10' : 'ICD-9-CM-3',
            code.trim(),
          );
          cache.set(key, concept ? lineage(concept.id) : undefined);
        }
        const hit = cache.get(key);
        if (hit) return hit;
      }
      return name?.trim() ? byText(kind, name.trim()) : undefined;
    },
    text(kind, text, conceptId) {
      if (conceptId && graph.getConcept(conceptId)) return lineage(conceptId);
      return byText(kind, text);
    },
  };
}
