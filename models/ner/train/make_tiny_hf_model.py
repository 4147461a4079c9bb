#!/usr/bin/env python3
"""Build the tiny Hugging Face token-classification test fixture for createTransformersTagger.

    /usr/bin/python3 models/ner/train/make_tiny_hf_model.py

Writes packages/ner/src/neural/fixtures/tiny-token-classifier/ in the layout transformers.js
loads offline: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx. The model is a
BERT-shaped stand-in (inputs input_ids / attention_mask / token_type_ids, output logits): char
embeddings + one 1-D convolution + a linear layer, trained for a few seconds on sentences we write
here from templates. Labels are BIO with CCKS 2019 names, to exercise the label mapping.
Deterministic (fixed seed, one thread).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

OUT = Path(__file__).resolve().parents[3] / 'packages/ner/src/neural/fixtures/tiny-token-classifier'
DISEASES = ['糖尿病', '高血压', '肺炎', '冠心病', '胃溃疡', '脑梗死', '肾结石', '哮喘']
DRUGS = ['二甲双胍', '阿司匹林', '头孢曲松', '硝苯地平', '奥美拉唑', '胰岛素', '氨溴索']
TEMPLATES = [
    '患者因{d}入院，予{m}治疗。',
    '既往{d}病史，长期口服{m}。',
    '诊断为{d}，给予{m}。',
    '{d}多年，规律服用{m}，病情稳定。',
]
LABELS = ['O', 'B-疾病和诊断', 'I-疾病和诊断', 'B-药物', 'I-药物']
SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
DIM = 24


def examples(rng: random.Random, n: int) -> list[tuple[str, list[int]]]:
    out = []
    for _ in range(n):
        d, m, tpl = rng.choice(DISEASES), rng.choice(DRUGS), rng.choice(TEMPLATES)
        text = tpl.format(d=d, m=m)
        tags = [0] * len(text)
        for ent, b in ((d, 1), (m, 3)):
            s = text.index(ent)
            tags[s] = b
            for i in range(s + 1, s + len(ent)):
                tags[i] = b + 1
        out.append((text, tags))
    return out


class Tiny(nn.Module):
    def __init__(self, vocab: int):
        super().__init__()
        self.emb = nn.Embedding(vocab, DIM)
        self.type_emb = nn.Embedding(2, DIM)
        self.conv = nn.Conv1d(DIM, DIM, 3, padding=1)
        self.out = nn.Linear(DIM, len(LABELS))

    def forward(self, ids, mask, types):
        x = (self.emb(ids) + self.type_emb(types)) * mask.unsqueeze(2).float()
        h = torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)
        return self.out(h)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(7)
    rng = random.Random(7)
    chars = sorted({c for t in TEMPLATES for c in t if c not in '{}dm'} | {c for w in DISEASES + DRUGS for c in w})
    vocab = SPECIAL + chars
    idx = {t: i for i, t in enumerate(vocab)}
    model = Tiny(len(vocab))
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    data = examples(rng, 400)
    for step in range(150):
        batch = rng.sample(data, 32)
        n = max(len(t) for t, _ in batch) + 2
        ids = torch.zeros(32, n, dtype=torch.long)
        tags = torch.zeros(32, n, dtype=torch.long)
        mask = torch.zeros(32, n, dtype=torch.long)
        for i, (t, tg) in enumerate(batch):
            seq = [idx['[CLS]']] + [idx.get(c, 1) for c in t] + [idx['[SEP]']]
            ids[i, : len(seq)] = torch.tensor(seq)
            tags[i, 1 : len(t) + 1] = torch.tensor(tg)
            mask[i, : len(seq)] = 1
        logits = model(ids, mask, torch.zeros_like(ids))
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(LABELS)), tags.reshape(-1), reduction='none')
        loss = (loss * mask.reshape(-1)).sum() / mask.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    print('final loss', float(loss))

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    inits = [
        numpy_helper.from_array(sd['emb.weight'], 'word_embeddings'),
        numpy_helper.from_array(sd['type_emb.weight'], 'token_type_embeddings'),
        numpy_helper.from_array(sd['conv.weight'], 'conv_W'),
        numpy_helper.from_array(sd['conv.bias'], 'conv_b'),
        numpy_helper.from_array(sd['out.weight'].T.copy(), 'out_W'),
        numpy_helper.from_array(sd['out.bias'], 'out_b'),
        numpy_helper.from_array(np.array([2], dtype=np.int64), 'axis2'),
    ]
    nodes = [
        helper.make_node('Gather', ['word_embeddings', 'input_ids'], ['we']),
        helper.make_node('Gather', ['token_type_embeddings', 'token_type_ids'], ['te']),
        helper.make_node('Add', ['we', 'te'], ['e']),
        helper.make_node('Cast', ['attention_mask'], ['maskf'], to=TensorProto.FLOAT),
        helper.make_node('Unsqueeze', ['maskf', 'axis2'], ['mask3']),
        helper.make_node('Mul', ['e', 'mask3'], ['x']),
        helper.make_node('Transpose', ['x'], ['xc'], perm=[0, 2, 1]),
        helper.make_node('Conv', ['xc', 'conv_W', 'conv_b'], ['hc'], pads=[1, 1], kernel_shape=[3]),
        helper.make_node('Relu', ['hc'], ['hr']),
        helper.make_node('Transpose', ['hr'], ['h'], perm=[0, 2, 1]),
        helper.make_node('MatMul', ['h', 'out_W'], ['mm']),
        helper.make_node('Add', ['mm', 'out_b'], ['logits']),
    ]
    graph = helper.make_graph(
        nodes,
        'tiny_token_classifier',
        [
            helper.make_tensor_value_info(n, TensorProto.INT64, ['batch_size', 'sequence_length'])
            for n in ('input_ids', 'attention_mask', 'token_type_ids')
        ],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch_size', 'sequence_length', len(LABELS)])],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 14)], producer_name='yijian-tiny-fixture')
    m.ir_version = 8
    onnx.checker.check_model(m)
    (OUT / 'onnx').mkdir(parents=True, exist_ok=True)
    onnx.save(m, str(OUT / 'onnx/model.onnx'))

    config = {
        'architectures': ['BertForTokenClassification'],
        'model_type': 'bert',
        'vocab_size': len(vocab),
        'hidden_size': DIM,
        'num_hidden_layers': 1,
        'num_attention_heads': 1,
        'max_position_embeddings': 512,
        'id2label': {str(i): l for i, l in enumerate(LABELS)},
        'label2id': {l: i for i, l in enumerate(LABELS)},
    }
    (OUT / 'config.json').write_text(json.dumps(config, ensure_ascii=False, indent=1) + '\n', encoding='utf-8')
    special = [
        {'id': idx[t], 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}
        for t in SPECIAL
    ]
    tokenizer = {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': special,
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True, 'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
            'pair': [
                {'SpecialToken': {'id': '[CLS]', 'type_id': 0}},
                {'Sequence': {'id': 'A', 'type_id': 0}},
                {'SpecialToken': {'id': '[SEP]', 'type_id': 0}},
                {'Sequence': {'id': 'B', 'type_id': 1}},
                {'SpecialToken': {'id': '[SEP]', 'type_id': 1}},
            ],
            'special_tokens': {t: {'id': t, 'ids': [idx[t]], 'tokens': [t]} for t in ('[CLS]', '[SEP]')},
        },
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##', 'max_input_chars_per_word': 100, 'vocab': idx},
    }
    (OUT / 'tokenizer.json').write_text(json.dumps(tokenizer, ensure_ascii=False) + '\n', encoding='utf-8')
    tok_config = {
        'tokenizer_class': 'BertTokenizer',
        'do_lower_case': True,
        'model_max_length': 512,
        'cls_token': '[CLS]',
        'sep_token': '[SEP]',
        'pad_token': '[PAD]',
        'unk_token': '[UNK]',
        'mask_token': '[MASK]',
    }
    (OUT / 'tokenizer_config.json').write_text(json.dumps(tok_config, ensure_ascii=False, indent=1) + '\n', encoding='utf-8')
    print('wrote', OUT)


if __name__ == '__main__':
    main()
