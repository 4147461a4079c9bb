#!/usr/bin/env python3
"""Score an ensemble of trained taggers on the dev split, and pseudo-label text with it.

Each member is an artifacts folder written by train.py (`training.json`, `vocab.json`,
`lexicon.json`) plus a PyTorch checkpoint of those shapes (`--member DIR=CHECKPOINT`). The
ensemble averages the members' main-head emissions and CRF transitions and decodes the average
with the constrained Viterbi of train.py (a product of the members' CRF distributions). Members
may have different vocabularies; they must share the lexicon and the label set.

    /usr/bin/python3 models/ner/train/ensemble.py \
      --member models/ner/train/.cache/1.2.0-candidate=models/ner/train/.cache/1.2.0.best.pt \
      --member models/ner/train/.cache/1.2.0-seed2=models/ner/train/.cache/1.2.0-seed2.best.pt \
      --pseudo-out models/ner/train/.cache/pseudo.jsonl

`--pseudo-out` writes the ensemble's mentions (CCKS 2019 labels, the corpora's JSONL format) on the
texts of CCKS 2017 train and `cmb_clin_cases.txt` of the unlabelled folder, for `train.py --pseudo`.
`--soft-out` writes the ensemble's per-character label marginals (forward-backward under the averaged
emissions and CRF) for the main training chunks and the chunks of those same texts, for
`train.py --distill` (knowledge distillation into one model).
The file is derived from ../shared data: it stays in the ignored .cache and is never committed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import train as T  # noqa: E402

INVERSE_MAP = {v: k for k, v in T.CCKS2019_MAP.items()}


class Member:
    def __init__(self, folder: Path, checkpoint: Path):
        meta = json.loads((folder / 'training.json').read_text(encoding='utf-8'))
        a = meta['args']
        vocab = json.loads((folder / 'vocab.json').read_text(encoding='utf-8'))
        self.cidx = {c: i for i, c in enumerate(vocab['chars'])}
        self.bidx = {b: i for i, b in enumerate(vocab['bigrams'])}
        if (a.get('word_features') or 'none') != 'none':
            raise SystemExit(f'{folder}: word-feature models are not supported here')
        lex_dim = meta['lexicon']['features'] if meta.get('lexicon') else 0
        if lex_dim != (T.LEXICON.dim if T.LEXICON else 0):
            raise SystemExit(f'{folder}: all members must share the lexicon')
        self.model = T.Tagger(
            len(vocab['chars']), len(vocab['bigrams']), a['char_dim'], a['bigram_dim'], a['hidden'], a['dropout'], lex_dim,
            aux=bool(a.get('cmeee_weight')),
        )
        self.model.load_state_dict(torch.load(checkpoint))
        self.model.eval()
        self.name = f'{folder.name}={checkpoint.name}'

    def emissions(self, chunks: list[str]) -> torch.Tensor:
        return T.main_emissions(self.model, chunks, self.cidx, self.bidx)


class Ensemble:
    def __init__(self, members: list[Member]):
        self.members = members
        self.crf = T.Crf(T.bioes_labels(T.MAIN_TYPES))
        with torch.no_grad():
            for name in ('trans', 'start', 'end'):
                getattr(self.crf, name).copy_(sum(getattr(m.model.crf_main, name) for m in members) / len(members))

    def emissions(self, chunks: list[str]) -> torch.Tensor:
        return sum(m.emissions(chunks) for m in self.members) / len(self.members)

    def marginals(self, chunks: list[str]) -> list:
        """Per-chunk label marginals (length, labels) under the averaged emissions and CRF, float16."""
        emis = self.emissions(chunks)
        mask = torch.zeros(len(chunks), emis.shape[1], dtype=torch.bool)
        for i, c in enumerate(chunks):
            mask[i, : len(c)] = True
        q = self.crf.marginals(emis, mask)
        return [q[i, : len(c)].to(torch.float16).clone() for i, c in enumerate(chunks)]

    def predict(self, text: str) -> set[tuple[int, int, str]]:
        return T.tag_text(text, self.emissions, self.crf)


def write_soft(ens: Ensemble, path: str, train: list[dict], dev_texts: set[str], extra: list[str], dev_f1: float) -> None:
    """The teacher's marginals for every chunk of the `train` records (train.py's main chunks) and of the
    unlabelled `extra` texts, keyed by normalised chunk text, with a description of the teacher
    (`{'teacher': {...}, 'marginals': {...}}`)."""
    chunks = set(T.chunk_texts(r['text'] for r in train if r['text'] not in dev_texts)) | set(T.chunk_texts(extra))
    chunks.discard('')
    ordered = sorted(chunks, key=len)
    soft: dict[str, torch.Tensor] = {}
    for i in range(0, len(ordered), 64):
        part = ordered[i : i + 64]
        soft.update(zip(part, ens.marginals(part)))
    teacher = {'members': [m.name for m in ens.members], 'dev_micro_f1': dev_f1, 'chunks': len(soft)}
    torch.save({'teacher': teacher, 'marginals': soft}, path)
    T.log(f'wrote {path}: marginals of {len(soft)} chunks ({sum(map(len, soft))} characters)')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--member', action='append', required=True, metavar='DIR=CHECKPOINT')
    ap.add_argument('--lexicon', default=str(HERE / '.cache/lexicon.json'))
    ap.add_argument('--pseudo-out', metavar='FILE', help='write pseudo-labelled CCKS 2017 + clinical-case texts here')
    ap.add_argument('--each', action='store_true', help='also score every member alone')
    ap.add_argument(
        '--soft-out',
        metavar='FILE',
        help='write the ensemble\'s per-character label marginals (torch.save: normalised chunk text -> float16 [length, labels]) '
        'for the main training chunks and the chunks of the --pseudo-out texts, for train.py --distill',
    )
    args = ap.parse_args()
    torch.set_num_threads(1)
    T.LEXICON = T.Lexicon(Path(args.lexicon))
    members = []
    for spec in args.member:
        folder, _, ckpt = spec.partition('=')
        members.append(Member(Path(folder), Path(ckpt or Path(folder) / 'best.pt')))
    corpora = T.shared_dir() / 'corpora'
    train19, dev, c20 = T.ccks_splits(corpora)
    if args.each:
        for m in members:
            f1 = T.score(dev, [Ensemble([m]).predict(r['text']) for r in dev])['micro']['f1']
            T.log(f'member {m.name}: dev micro F1 {f1:.4f}')
    ens = Ensemble(members)
    sc = T.score(dev, [ens.predict(r['text']) for r in dev])
    T.log(f'ensemble of {len(members)}: dev P {sc["micro"]["precision"]:.4f} R {sc["micro"]["recall"]:.4f} F1 {sc["micro"]["f1"]:.4f}')
    for t in T.MAIN_TYPES:
        T.log(f'  {t:10s} P {sc[t]["precision"]:.4f} R {sc[t]["recall"]:.4f} F1 {sc[t]["f1"]:.4f} ({sc[t]["support"]})')
    if not args.pseudo_out and not args.soft_out:
        return
    dev_texts = {r['text'] for r in dev}
    texts = [(r['id'], r['text']) for r in T.read_jsonl(corpora / 'ccks2017/train.jsonl')]
    cases = T.shared_dir() / 'unlabeled/cmb_clin_cases.txt'
    if cases.exists():
        texts += [(f'cmb-clin-{i}', line.rstrip('\n')) for i, line in enumerate(cases.read_text(encoding='utf-8').splitlines()) if line.strip()]
    texts = [(i, t) for i, t in texts if t not in dev_texts]
    if args.soft_out:
        write_soft(ens, args.soft_out, train19 + c20, dev_texts, [t for _, t in texts], sc['micro']['f1'])
    if not args.pseudo_out:
        return
    n = 0
    with open(args.pseudo_out, 'w', encoding='utf-8') as fh:
        for rid, text in texts:
            ents = sorted(ens.predict(text))
            n += len(ents)
            fh.write(
                json.dumps(
                    {'id': f'pseudo-{rid}', 'text': text, 'entities': [{'start': s, 'end': e, 'type': INVERSE_MAP[t], 'text': text[s:e]} for s, e, t in ents]},
                    ensure_ascii=False,
                )
                + '\n'
            )
    T.log(f'wrote {args.pseudo_out}: {len(texts)} texts, {n} mentions ({", ".join(m.name for m in members)})')


if __name__ == '__main__':
    main()
