import type { MemoryGraph } from './memory-graph.js';
import type { ConceptKind } from './types.js';

/** The NER mention types (the `MentionType` of `@yijian/ner`), named here as plain strings. */
export type TaggedMentionType = 'disease' | 'symptom' | 'drug' | 'operation' | 'lab' | 'imaging' | 'anatomy';

/** Concept kind -> NER mention type; departments are not tagged in text. */
export const MENTION_TYPE_OF_KIND: Readonly<Partial<Record<ConceptKind, TaggedMentionType>>> = {
  Disease: 'disease',
  Symptom: 'symptom',
  Drug: 'drug',
  DrugClass: 'drug',
  Procedure: 'operation',
  LabTest: 'lab',
  Exam: 'imaging',
  Anatomy: 'anatomy',
};

/** NER mention type -> the concept kind to link it to. */
export const KIND_OF_MENTION_TYPE: Readonly<Record<TaggedMentionType, ConceptKind>> = {
  disease: 'Disease',
  symptom: 'Symptom',
  drug: 'Drug',
  operation: 'Procedure',
  lab: 'LabTest',
  imaging: 'Exam',
  anatomy: 'Anatomy',
};

/** The graph's names and synonyms as lexicon entries for the NER lexicon tagger. */
export function taggerLexicon(
  graph: MemoryGraph,
): { term: string; type: TaggedMentionType; conceptId: string }[] {
  return graph.lexicon().flatMap((e) => {
    const type = MENTION_TYPE_OF_KIND[e.kind];
    return type ? [{ term: e.term, type, conceptId: e.conceptId }] : [];
  });
}
