#!/usr/bin/env python3
"""How often gold entity boundaries of the dev split fall on jieba word boundaries (per type).

    /usr/bin/python3 models/ner/train/word_boundary_stats.py [--no-hmm]

Reads the dev split (every 10th CCKS 2019 train record) from ../shared and the jieba word bits of its
chunks from .cache/words-jieba.json (segment.mjs is run for missing chunks); prints, per type, the share
of gold spans whose first character starts a word (B or S) and whose last character ends one (E or S).
Nothing is written besides the cache.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train as T  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--no-hmm', action='store_true')
    args = ap.parse_args()
    (T.HERE / '.cache').mkdir(exist_ok=True)
    words = T.WordFeatures(T.HERE / '.cache' / f"words-jieba{'-nohmm' if args.no_hmm else ''}.json", hmm=not args.no_hmm)
    dev = T.ccks_splits(T.shared_dir() / 'corpora')[1]
    words.ensure(T.chunk_texts(r['text'] for r in dev))
    stats: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])  # spans, start ok, end ok, both
    for r in dev:
        norm = T.normalize(r['text'])
        letters = [''] * len(norm)
        for a, b in T.segment(r['text']):
            for i, c in enumerate(words.words[words.key(norm[a:b])]):
                letters[a + i] = c
        for e in r['entities']:
            start_ok = letters[e['start']] in 'BS'
            end_ok = letters[e['end'] - 1] in 'ES'
            for k in (T.CCKS2019_MAP[e['type']], 'all'):
                s = stats[k]
                s[0] += 1
                s[1] += start_ok
                s[2] += end_ok
                s[3] += start_ok and end_ok
    print('type       spans  start on word start  end on word end  both')
    for k in T.MAIN_TYPES + ['all']:
        n, a, b, c = stats[k]
        print(f'{k:10s} {n:5d}  {a / n:19.1%}  {b / n:15.1%}  {c / n:5.1%}')


if __name__ == '__main__':
    main()
