#!/usr/bin/env python3
"""Error analysis of a trained NER checkpoint on the dev split (every 10th CCKS 2019 train record).

    /usr/bin/python3 models/ner/train/error_analysis.py --model models/ner/1.1.0 [--checkpoint <.pt>]

Classifies every strict error: a predicted span that matches no gold span is a *type* error when a gold
span has the same offsets, a *boundary* error when it overlaps a gold span of the same type, *boundary+type*
when it overlaps one of another type, else *spurious*. A gold span no prediction overlaps is *missed*.
Prints counts per type and the most frequent missed / boundary strings (read from ../shared at run time;
nothing is written).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train as T  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default=str(T.REPO / 'models/ner/1.1.0'))
    ap.add_argument('--checkpoint', help='state dict (.pt); default: rebuild from the ONNX initialisers is not supported, so give the .pt')
    ap.add_argument('--top', type=int, default=15)
    args = ap.parse_args()
    mdir = Path(args.model)
    meta = json.loads((mdir / 'training.json').read_text(encoding='utf-8'))
    vocab = json.loads((mdir / 'vocab.json').read_text(encoding='utf-8'))
    cidx = {c: i for i, c in enumerate(vocab['chars'])}
    bidx = {b: i for i, b in enumerate(vocab['bigrams'])}
    if meta.get('lexicon'):
        T.LEXICON = T.Lexicon(mdir / 'lexicon.json')
    wf = meta.get('word_features')
    a = meta['args']
    state = torch.load(args.checkpoint or (T.HERE / '.cache' / f"{mdir.name}.best.pt"))
    model = T.Tagger(len(vocab['chars']), len(vocab['bigrams']), a['char_dim'], a['bigram_dim'], a['hidden'], 0.0,
                     T.LEXICON.dim if T.LEXICON else 0, aux='head_aux.weight' in state, word_dim=wf['features'] if wf else 0)
    model.load_state_dict(state)
    dev = T.ccks_splits(T.shared_dir() / 'corpora')[1]
    if wf:  # jieba word bits of the dev chunks (segment.mjs, cached)
        T.WORDS = T.WordFeatures(T.HERE / '.cache' / f"words-jieba{'' if wf['hmm'] else '-nohmm'}.json", hmm=wf['hmm'])
        T.WORDS.ensure(T.chunk_texts(r['text'] for r in dev))
    preds = T.predict_records(model, dev, cidx, bidx)
    sc = T.score(dev, preds)
    print(f"micro P {sc['micro']['precision']:.4f} R {sc['micro']['recall']:.4f} F1 {sc['micro']['f1']:.4f}")
    kinds = {t: collections.Counter() for t in T.MAIN_TYPES}
    missed_str = {t: collections.Counter() for t in T.MAIN_TYPES}
    bound_str = {t: collections.Counter() for t in T.MAIN_TYPES}
    length_miss = collections.Counter()
    length_gold = collections.Counter()
    for r, p in zip(dev, preds):
        text = r['text']
        gold = {(e['start'], e['end'], T.CCKS2019_MAP[e['type']]) for e in r['entities']}
        for g in gold:
            length_gold[min(g[1] - g[0], 10)] += 1
            if g not in p:
                length_miss[min(g[1] - g[0], 10)] += 1
            if not any(s < g[1] and e > g[0] for s, e, _ in p):
                kinds[g[2]]['missed'] += 1
                missed_str[g[2]][text[g[0]:g[1]]] += 1
        for s, e, t in p:
            if (s, e, t) in gold:
                continue
            same = [g for g in gold if g[0] == s and g[1] == e]
            over = [g for g in gold if g[0] < e and g[1] > s]
            if same:
                kinds[t]['type'] += 1
            elif any(g[2] == t for g in over):
                kinds[t]['boundary'] += 1
                g = next(g for g in over if g[2] == t)
                bound_str[t][f'{text[s:e]} | gold {text[g[0]:g[1]]}'] += 1
            elif over:
                kinds[t]['boundary+type'] += 1
            else:
                kinds[t]['spurious'] += 1
    print('\nper type: F1, gold, predicted-side errors (type, boundary, boundary+type, spurious), missed gold')
    for t in T.MAIN_TYPES:
        k = kinds[t]
        print(f"  {t:10s} F1 {sc[t]['f1'] * 100:6.2f} gold {sc[t]['support']:4d}  type {k['type']:3d} boundary {k['boundary']:3d} "
              f"boundary+type {k['boundary+type']:3d} spurious {k['spurious']:3d} missed {k['missed']:3d}")
    print('\nstrict recall by gold length (chars; 10 = 10+):')
    for n in sorted(length_gold):
        print(f'  {n:2d}: {length_gold[n] - length_miss[n]:4d}/{length_gold[n]:4d} = {(1 - length_miss[n] / length_gold[n]) * 100:5.1f}%')
    for t in ('disease', 'anatomy', 'operation', 'lab'):
        print(f'\n{t}: most frequent boundary errors (pred | gold):')
        for s, n in bound_str[t].most_common(args.top):
            print(f'  {n:3d} {s}')
        print(f'{t}: most frequent missed gold:')
        for s, n in missed_str[t].most_common(args.top):
            print(f'  {n:3d} {s}')


if __name__ == '__main__':
    main()
