#!/usr/bin/env python3
"""Build the tiny lexicon-feature model used as a test fixture for createOnnxTagger.

    /usr/bin/python3 models/ner/train/make_tiny_lexicon_model.py
    /usr/bin/python3 models/ner/train/make_tiny_lexicon_model.py --words   # + jieba word features

With --words the model also takes the `words` input (train.py --word-features jieba: B/M/E/S of the jieba
word, from segment.mjs) and goes to fixtures/tiny-word-model/ (the word bits are in the parity samples).

Writes packages/ner/src/neural/fixtures/tiny-lexicon-model/: the same files as a trained model folder
(model.onnx with the `lexicon` input, vocab.json, labels.json, crf.json, lexicon.json, training.json with
a parity sample), built by train.py's own code (Tagger, Lexicon, export_onnx) with a vocabulary, a
lexicon and sentences we write here, and seeded random weights: no corpus data and no training. The
tests check that the TypeScript path computes the trainer's lexicon bits and emissions and decodes the
trainer's spans; the mentions themselves mean nothing. Deterministic (fixed seed, one thread).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import train as T  # noqa: E402

FIXTURES = T.REPO / 'packages/ner/src/neural/fixtures'
SENTENCES = [
    '患者因2型糖尿病口服二甲双胍，诉头痛。',
    '行腹腔镜胆囊切除术，术后予头孢曲松抗感染。',
    '复查CT示右肺结节，血常规未见异常。',
]
LEXICON = {
    'source': 'make_tiny_lexicon_model.py (written for the test)',
    'features': 'per character, per type: B, M, E, S of every matched term (all matches, overlapping)',
    'types': ['disease', 'drug', 'anatomy'],
    'terms': {
        'disease': ['糖尿病', '2型糖尿病', '肺结节'],
        'drug': ['二甲双胍', '头孢曲松'],
        'anatomy': ['肺', '右肺', '胆囊'],
    },
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--words', action='store_true', help='also jieba word features (fixtures/tiny-word-model)')
    words = ap.parse_args().words
    OUT = FIXTURES / ('tiny-word-model' if words else 'tiny-lexicon-model')
    torch.set_num_threads(1)
    torch.manual_seed(20261129)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / 'lexicon.json').write_text(json.dumps(LEXICON, ensure_ascii=False) + '\n', encoding='utf-8')
    T.LEXICON = T.Lexicon(OUT / 'lexicon.json')
    if words:
        (HERE / '.cache').mkdir(exist_ok=True)
        T.WORDS = T.WordFeatures(HERE / '.cache' / 'words-jieba.json')
        T.WORDS.ensure([T.normalize(s) for s in SENTENCES])
    chars, bis = T.build_vocab([T.normalize(s) for s in SENTENCES], 1)
    cidx = {c: i for i, c in enumerate(chars)}
    bidx = {b: i for i, b in enumerate(bis)}
    model = T.Tagger(len(chars), len(bis), 8, 4, 8, 0.0, T.LEXICON.dim, word_dim=T.WORDS.dim if words else 0)
    with torch.no_grad():  # make the lexicon (and word) input matter, and the CRF non-trivial
        model.lstm.weight_ih_l0[:, -T.extra_dim() :] *= 8
        model.lstm.weight_ih_l0_reverse[:, -T.extra_dim() :] *= 8
        model.head_main.weight *= 6
        for crf in (model.crf_main, model.crf_sym):
            crf.trans.normal_(0, 0.3)
            crf.start.normal_(0, 0.3)
            crf.end.normal_(0, 0.3)
    model.eval()
    T.export_onnx(model, OUT / 'model.onnx', 15)
    main_labels = T.bioes_labels(T.MAIN_TYPES)
    sym_labels = T.bioes_labels(T.SYM_TYPES)
    (OUT / 'vocab.json').write_text(
        json.dumps({'chars': chars, 'bigrams': bis, 'bos': T.BOS, 'eos': T.EOS, 'pad': T.PAD, 'unk': T.UNK}, ensure_ascii=False),
        encoding='utf-8',
    )
    (OUT / 'labels.json').write_text(
        json.dumps(
            {
                'scheme': 'BIOES',
                'heads': [
                    {'output': 'emissions', 'labels': main_labels},
                    {'output': 'symptom_emissions', 'labels': sym_labels},
                ],
                'mapping': {'ccks2019': T.CCKS2019_MAP, 'ccks2017': T.CCKS2017_MAP},
            },
            ensure_ascii=False,
        ),
        encoding='utf-8',
    )

    def crf_json(crf: T.Crf) -> dict:
        return {
            'transitions': crf.trans.detach().numpy().round(6).tolist(),
            'start': crf.start.detach().numpy().round(6).tolist(),
            'end': crf.end.detach().numpy().round(6).tolist(),
        }

    (OUT / 'crf.json').write_text(
        json.dumps({'emissions': crf_json(model.crf_main), 'symptom_emissions': crf_json(model.crf_sym)}), encoding='utf-8'
    )
    # parity: one chunk per sentence, as the tagger sees them (each is shorter than MAX_LEN)
    parity = []
    for s in SENTENCES:
        ns = T.normalize(s)
        c, l, r, f = T.encode_chunk(ns, cidx, bidx)
        with torch.no_grad():
            chars_t, bl, br, _, mask, lengths, lex = T.make_batch([(c, l, r, f, [0] * len(c))])
            hid = model.encode(chars_t, bl, br, lengths, lex)
            em = model.head_main(hid)
            path = model.crf_main.decode(em, mask)[0]
        parity.append(
            {
                'text': s,
                'lexicon_bits': np.argwhere(f[:, : T.LEXICON.dim] > 0).tolist(),
                **({'word_bits': np.argwhere(f[:, T.LEXICON.dim :] > 0).tolist()} if words else {}),
                'emissions': em[0].numpy().round(5).tolist(),
                'main_spans': [list(x) for x in T.spans_from_tags([main_labels[i] for i in path])],
            }
        )
    meta = {
        'name': 'yijian-tiny-word-fixture' if words else 'yijian-tiny-lexicon-fixture',
        'version': 'fixture',
        'created_by': 'models/ner/train/make_tiny_lexicon_model.py',
        'max_len': T.MAX_LEN,
        'lexicon': {'file': 'lexicon.json', 'types': T.LEXICON.types, 'features': T.LEXICON.dim, 'terms': T.LEXICON.count},
        **({'word_features': {**T.WORDS.spec, 'features': T.WORDS.dim}} if words else {}),
        'fixture_parity': parity,
    }
    (OUT / 'training.json').write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding='utf-8')
    print(f'wrote {OUT} ({(OUT / "model.onnx").stat().st_size} bytes)')


if __name__ == '__main__':
    main()
