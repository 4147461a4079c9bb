#!/usr/bin/env python3
"""Train the Yijian Chinese clinical NER model (char + bigram BiLSTM with two CRF heads).

One command, seeded and reproducible (see docs/ner-model.md):

    /usr/bin/python3 models/ner/train/train.py --out models/ner/1.0.0

Data (read only, never copied into the repository) comes from <repo>/../shared/corpora, or from
$YIJIAN_SHARED_DIR/corpora:

* main head (6 CCKS 2019 types): CCKS 2019 train minus the dev split (every 10th record,
  ids ending in 0: ccks2019-train-0010, -0020, ...), plus the CCKS 2020 records that are not
  duplicates of CCKS 2019 train (ids in ccks2020/ids_also_in_ccks2019_train.txt are dropped).
* symptom head (1 type): CCKS 2017 症状和体征.
* char embedding pre-training: PPMI + eigendecomposition of a char co-occurrence matrix counted
  over the unlabelled text in <shared>/unlabeled and the training texts.

The encoder is exported to ONNX by hand (Gather -> Concat -> LSTM with sequence_lens -> MatMul),
emissions only; CRF transitions are written to crf.json and decoded in TypeScript.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import math
import os
import random
import subprocess
import tempfile
import sys
import time
from pathlib import Path

# Debian's OpenBLAS (libopenblas0-pthread) starts worker threads that spin in sched_yield between
# calls: with one torch thread the process still kept a second core busy (strace: ~30k sched_yield
# calls a second). torch.set_num_threads() sets the thread count for its own work below.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import numpy as np
import torch
import torch.nn as nn

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent

# Corpus label -> our MentionType. Documented in docs/ner-model.md and MODEL_CARD.md.
CCKS2019_MAP = {
    '疾病和诊断': 'disease',
    '影像检查': 'imaging',
    '实验室检验': 'lab',
    '手术': 'operation',
    '药物': 'drug',
    '解剖部位': 'anatomy',
}
CCKS2017_MAP = {'症状和体征': 'symptom'}
MAIN_TYPES = ['disease', 'imaging', 'lab', 'operation', 'drug', 'anatomy']
SYM_TYPES = ['symptom']
# CMeEE (auxiliary head only, never exported): its own nine labels, not mapped to ours.
CMEEE_TYPES = ['dis', 'sym', 'dru', 'equ', 'pro', 'bod', 'ite', 'mic', 'dep']
CMEEE_MAP = {t: t for t in CMEEE_TYPES}

MAX_LEN = 128  # chunk length in UTF-16 code units; must match packages/ner/src/neural/segment.ts
TERMINATORS = set('。！？；!?;\n\r')
SECONDARY = set('，,、：:')

PAD, UNK = 0, 1


def log(*args: object) -> None:
    print(time.strftime('%H:%M:%S'), *args, flush=True)


# --------------------------------------------------------------------------- normalisation
def normalize_char(c: str) -> str:
    """One UTF-16 code unit in, one out (offsets are preserved). Mirrors normalize.ts."""
    o = ord(c)
    if 0xFF01 <= o <= 0xFF5E:
        o -= 0xFEE0
    elif o == 0x3000 or o == 0x00A0 or o == 0x09:
        o = 0x20
    if 0x41 <= o <= 0x5A:
        o += 0x20
    if 0x30 <= o <= 0x39:
        o = 0x30
    return chr(o)


def normalize(text: str) -> str:
    return ''.join(normalize_char(c) for c in text)


# --------------------------------------------------------------------------- segmentation
def segment(text: str, max_len: int = MAX_LEN) -> list[tuple[int, int]]:
    """Split into chunks [start, end) of at most max_len units. Mirrors segment.ts exactly."""
    n = len(text)
    pieces: list[tuple[int, int]] = []
    s = 0
    for i, c in enumerate(text):
        if c in TERMINATORS:
            pieces.append((s, i + 1))
            s = i + 1
    if s < n:
        pieces.append((s, n))
    # Split pieces that are too long: at the last secondary mark inside the window, else hard.
    small: list[tuple[int, int]] = []
    for a, b in pieces:
        while b - a > max_len:
            cut = -1
            for j in range(a + max_len - 1, a, -1):
                if text[j] in SECONDARY:
                    cut = j + 1
                    break
            if cut <= a:
                cut = a + max_len
            small.append((a, cut))
            a = cut
        if b > a:
            small.append((a, b))
    # Pack consecutive pieces into chunks of at most max_len.
    chunks: list[tuple[int, int]] = []
    cur_a, cur_b = -1, -1
    for a, b in small:
        if cur_a < 0:
            cur_a, cur_b = a, b
        elif b - cur_a <= max_len:
            cur_b = b
        else:
            chunks.append((cur_a, cur_b))
            cur_a, cur_b = a, b
    if cur_a >= 0:
        chunks.append((cur_a, cur_b))
    return chunks


# --------------------------------------------------------------------------- data
def shared_dir() -> Path:
    env = os.environ.get('YIJIAN_SHARED_DIR')
    return Path(env) if env else (REPO.parent / 'shared')


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]


def ccks_splits(corpora: Path) -> tuple[list[dict], list[dict], list[dict]]:
    """CCKS 2019 train without the dev split, the dev split (every record whose 1-based line number is a
    multiple of 10), and the CCKS 2020 records that are not copies of CCKS 2019 train."""
    c19 = read_jsonl(corpora / 'ccks2019/train.jsonl')
    dev = [r for i, r in enumerate(c19) if (i + 1) % 10 == 0]
    train19 = [r for i, r in enumerate(c19) if (i + 1) % 10 != 0]
    dup = set((corpora / 'ccks2020/ids_also_in_ccks2019_train.txt').read_text().split())
    c20 = [r for r in read_jsonl(corpora / 'ccks2020/train.jsonl') if r['id'] not in dup]
    return train19, dev, c20


def chunk_texts(texts) -> list[str]:
    """The normalised chunk texts of `texts`, cut as the tagger cuts them (and make_chunks)."""
    return [normalize(t)[a:b] for t in texts for a, b in segment(t)]


def bioes_labels(types: list[str]) -> list[str]:
    labels = ['O']
    for t in types:
        labels += [f'B-{t}', f'I-{t}', f'E-{t}', f'S-{t}']
    return labels


def allowed_transitions(labels: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BIOES constraints: (from, to) matrix, allowed start, allowed end. Mirrors viterbi.ts."""
    k = len(labels)
    trans = np.zeros((k, k), dtype=bool)

    def split(l: str) -> tuple[str, str]:
        return ('O', '') if l == 'O' else (l[0], l[2:])

    for i, a in enumerate(labels):
        pa, ta = split(a)
        for j, b in enumerate(labels):
            pb, tb = split(b)
            if pa in ('O', 'E', 'S'):
                ok = pb in ('O', 'B', 'S')
            else:  # B or I
                ok = pb in ('I', 'E') and ta == tb
            trans[i, j] = ok
    start = np.array([split(l)[0] in ('O', 'B', 'S') for l in labels])
    end = np.array([split(l)[0] in ('O', 'E', 'S') for l in labels])
    return trans, start, end


def tag_chunk(n: int, ents: list[tuple[int, int, str]], label_index: dict[str, int]) -> list[int]:
    tags = [0] * n
    for s, e, t in ents:
        if s < 0 or e > n or e <= s:
            continue
        if any(tags[i] != 0 for i in range(s, e)):
            continue  # nested or overlapping: keep the first (entities are sorted by start)
        if e - s == 1:
            tags[s] = label_index[f'S-{t}']
        else:
            tags[s] = label_index[f'B-{t}']
            for i in range(s + 1, e - 1):
                tags[i] = label_index[f'I-{t}']
            tags[e - 1] = label_index[f'E-{t}']
    return tags


def make_chunks(records: list[dict], mapping: dict[str, str], labels: list[str]) -> list[tuple[str, list[int]]]:
    """Normalised chunk text + tags. Entities crossing a chunk boundary are dropped (rare)."""
    idx = {l: i for i, l in enumerate(labels)}
    out = []
    dropped = 0
    for r in records:
        text = r['text']
        norm = normalize(text)
        ents = [(e['start'], e['end'], mapping[e['type']]) for e in r['entities'] if e['type'] in mapping]
        for a, b in segment(text):
            inside = [(s - a, e - a, t) for s, e, t in ents if s >= a and e <= b]
            dropped += sum(1 for s, e, _ in ents if s < b and e > a and not (s >= a and e <= b))
            out.append((norm[a:b], tag_chunk(b - a, inside, idx)))
    if dropped:
        log(f'  {dropped} entities cross a chunk boundary and were not used')
    return out


# --------------------------------------------------------------------------- vocab + embeddings
def build_vocab(chunks: list[str], min_count: int) -> tuple[list[str], list[str]]:
    cc: collections.Counter[str] = collections.Counter()
    bc: collections.Counter[str] = collections.Counter()
    for t in chunks:
        cc.update(t)
        bc.update(bigrams(t))
    chars = ['<pad>', '<unk>'] + sorted(c for c, n in cc.items() if n >= 1)
    bis = ['<pad>', '<unk>'] + sorted(b for b, n in bc.items() if n >= min_count)
    return chars, bis


BOS, EOS = '\u0002', '\u0003'


def bigrams(t: str) -> list[str]:
    """Bigram ending at each position i: t[i-1] t[i] (BOS at the start), plus the final one with EOS."""
    padded = BOS + t + EOS
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


class Lexicon:
    """Lexicon features from OUR knowledge graph (models/ner/<version>/lexicon.json, written by
    export_lexicon.mjs). Per character and per type four bits: B, M, E, S of every term that matches
    the normalised chunk text there (all matches, overlapping; a term of several types sets each).
    Mirrors packages/ner/src/neural/lexicon-features.ts exactly."""

    def __init__(self, path: Path):
        data = json.loads(Path(path).read_text(encoding='utf-8'))
        self.path = Path(path)
        self.types: list[str] = data['types']
        self.dim = 4 * len(self.types)
        self.root: dict = {}
        self.count = 0
        for ti, t in enumerate(self.types):
            for term in data['terms'][t]:
                nt = normalize(term.strip())
                if not nt:
                    continue
                node = self.root
                for ch in nt:
                    node = node.setdefault(ch, {})
                node.setdefault('', set()).add(ti)
                self.count += 1

    def features(self, text: str) -> np.ndarray:
        n = len(text)
        f = np.zeros((n, self.dim), dtype=np.float32)
        for i in range(n):
            node = self.root.get(text[i])
            j = i + 1
            while node is not None:
                ts = node.get('')
                if ts:
                    for ti in ts:
                        if j - i == 1:
                            f[i, 4 * ti + 3] = 1
                        else:
                            f[i, 4 * ti] = 1
                            f[i + 1 : j - 1, 4 * ti + 1] = 1
                            f[j - 1, 4 * ti + 2] = 1
                if j >= n:
                    break
                node = node.get(text[j])
                j += 1
        return f


class WordFeatures:
    """Word-boundary features (--word-features jieba): per character the B/M/E/S bit of the jieba word
    it sits in, on the normalised chunk text segmented on its own. The bits come from
    models/ner/train/segment.mjs, which runs @node-rs/jieba through the TypeScript WordFeaturizer
    (packages/ner/src/neural/word-features.ts, the inference code), via a cache keyed by text hash."""

    dim = 4
    LETTER = {'B': 0, 'M': 1, 'E': 2, 'S': 3}

    def __init__(self, cache_path: Path, hmm: bool = True):
        self.cache_path = cache_path
        self.hmm = hmm
        self.words: dict[str, str] = {}
        self.spec: dict = {}
        self._load()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode('utf-16-le', 'surrogatepass')).hexdigest()[:16]

    def _load(self) -> None:
        if self.cache_path.exists():
            data = json.loads(self.cache_path.read_text(encoding='utf-8'))
            if data.get('hmm') == self.hmm:
                self.words = data['words']
                self.spec = {k: data[k] for k in ('segmenter', 'package', 'version', 'hmm')}

    def ensure(self, texts: list[str]) -> None:
        """Segment (in Node) every text the cache lacks."""
        missing = sorted({t for t in texts if self.key(t) not in self.words})
        if missing or not self.spec:
            with tempfile.NamedTemporaryFile('w', suffix='.json', dir=self.cache_path.parent, delete=False, encoding='utf-8') as f:
                json.dump(missing, f)
                tmp = f.name
            try:
                cmd = ['node', str(HERE / 'segment.mjs'), '--texts', tmp, '--cache', str(self.cache_path)]
                if not self.hmm:
                    cmd.append('--no-hmm')
                log(f'  segmenting {len(missing)} texts with jieba (node segment.mjs)')
                subprocess.run(cmd, check=True)
            finally:
                os.unlink(tmp)
            self._load()
        lacking = [t for t in texts if self.key(t) not in self.words]
        if lacking:
            sys.exit(f'word features: {len(lacking)} texts still missing from {self.cache_path}')

    def features(self, text: str) -> np.ndarray:
        letters = self.words[self.key(text)]
        assert len(letters) == len(text), 'word feature length mismatch'
        f = np.zeros((len(text), self.dim), dtype=np.float32)
        f[np.arange(len(text)), [self.LETTER[c] for c in letters]] = 1
        return f


def ppmi_char_embeddings(chars: list[str], texts: list[str], dim: int, window: int, rng: np.random.Generator) -> np.ndarray:
    """Char vectors from PPMI of char co-occurrence (+-window), truncated eigendecomposition."""
    v = len(chars)
    index = {c: i for i, c in enumerate(chars)}
    # one long id stream; PAD (id 0) separates texts and its row/column is zeroed below
    stream: list[int] = []
    for text in texts:
        stream.extend(index.get(c, UNK) for c in text)
        stream.extend([PAD] * window)
    ids = np.asarray(stream, dtype=np.int64)
    counts = np.zeros((v, v), dtype=np.float64)
    for d in range(1, window + 1):
        pair = np.bincount(ids[:-d] * v + ids[d:], minlength=v * v).reshape(v, v).astype(np.float64)
        counts += pair + pair.T
    counts[:, :2] = 0
    counts[:2, :] = 0
    log(f'  co-occurrence over {len(ids)} chars')
    row = counts.sum(1, keepdims=True)
    col = counts.sum(0, keepdims=True) ** 0.75
    pc = col / max(col.sum(), 1e-12)
    with np.errstate(divide='ignore', invalid='ignore'):
        pmi = np.log(np.maximum(counts, 1e-12) / np.maximum(row * pc, 1e-12))
    ppmi = np.where(counts > 0, np.maximum(pmi, 0.0), 0.0)
    vals_t, vecs_t = torch.linalg.eigh(torch.from_numpy(ppmi))  # numpy here links reference LAPACK (slow)
    vals, vecs = vals_t.numpy(), vecs_t.numpy()
    order = np.argsort(-np.abs(vals))[:dim]
    emb = vecs[:, order] * np.sqrt(np.abs(vals[order]))
    emb = emb / (emb.std() + 1e-8) * 0.1
    missing = row[:, 0] == 0
    emb[missing] = rng.normal(0, 0.1, size=(int(missing.sum()), dim))
    emb[PAD] = 0
    return emb.astype(np.float32)


def extend_vocab(chars: list[str], bis: list[str], texts: list[str], char_min: int, bigram_min: int, bigram_cap: int) -> tuple[list[str], list[str]]:
    """Add the chars and bigrams that are frequent in the pre-training text (ranked by count, at most
    bigram_cap new bigrams), so that a dev/test bigram never seen in the labelled data still has a
    pre-trained vector instead of <unk>."""
    cc: collections.Counter[str] = collections.Counter()
    bc: collections.Counter[str] = collections.Counter()
    for t in texts:
        cc.update(t)
        bc.update(bigrams(t))
    have_c, have_b = set(chars), set(bis)
    new_c = sorted(c for c, n in cc.items() if n >= char_min and c not in have_c)
    ranked = [b for b, n in bc.most_common() if n >= bigram_min and b not in have_b][:bigram_cap]
    return chars + new_c, bis + sorted(ranked)


def sgns_tables(n_chars: int, n_bis: int, char_dim: int, bi_dim: int) -> tuple[nn.Embedding, ...]:
    """The SGNS input/output tables. Their initialisation draws from the global torch RNG, so a run that
    loads cached vectors calls this too and trains exactly like a run that pre-trained them."""
    c_in = nn.Embedding(n_chars, char_dim, sparse=True)
    c_out = nn.Embedding(n_chars, char_dim, sparse=True)
    b_in = nn.Embedding(n_bis, bi_dim, sparse=True)
    b_out = nn.Embedding(n_chars, bi_dim, sparse=True)
    for e, d in ((c_in, char_dim), (b_in, bi_dim)):
        nn.init.uniform_(e.weight, -0.5 / d, 0.5 / d)
    for e in (c_out, b_out):
        nn.init.zeros_(e.weight)
    return c_in, c_out, b_in, b_out


def sgns_embeddings(
    chars: list[str], bis: list[str], texts: list[str], char_dim: int, bi_dim: int, epochs: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Skip-gram with negative sampling (window 2, 5 negatives) over all the given texts, in torch.
    Centres are characters (context: chars at -2..+2) and bigrams t[i..i+1] (context: chars at i-2, i-1,
    i+2, i+3); both predict characters through their own output tables. Returns the char and bigram
    vectors (rescaled to std 0.1) and boolean masks of the rows that were trained."""
    g = torch.Generator().manual_seed(seed)
    cidx = {c: i for i, c in enumerate(chars)}
    bkey = {b: i for i, b in enumerate(bis)}
    # one stream: BOS text EOS BOS text EOS ...; BOS/EOS are no centres and no contexts (id 0)
    stream = ''.join(BOS + t + EOS for t in texts)
    n = len(stream)
    table = np.zeros(0x10000, dtype=np.int64)
    for c, i in cidx.items():
        if len(c) == 1:
            table[ord(c)] = i
    cps = np.frombuffer(stream.encode('utf-16-le'), dtype=np.uint16).astype(np.int64)
    assert len(cps) == n
    cid = table[cps]
    cid[(cps == ord(BOS)) | (cps == ord(EOS))] = PAD
    # bigram id of stream[j..j+1] (UNK when not in the vocabulary)
    keys = cps[:-1] * 0x10000 + cps[1:]
    vk = np.array([ord(b[0]) * 0x10000 + ord(b[1]) for b in bis[2:]], dtype=np.int64)
    vi = np.arange(2, len(bis), dtype=np.int64)
    order = np.argsort(vk)
    vk, vi = vk[order], vi[order]
    pos = np.clip(np.searchsorted(vk, keys), 0, len(vk) - 1)
    bid = np.where(vk[pos] == keys, vi[pos], UNK)
    bid = np.append(bid, UNK)
    bid[(cps == ord(EOS))] = PAD  # EOS BOS pairs between texts
    counts = np.bincount(cid, minlength=len(chars)).astype(np.float64)
    counts[:2] = 0
    noise = torch.from_numpy(counts**0.75 / (counts**0.75).sum())
    log(f'  sgns stream {n:,} code units, {int((cid > 1).sum()):,} known chars, {int((bid > 1).sum()):,} known bigrams')

    c_in, c_out, b_in, b_out = sgns_tables(len(chars), len(bis), char_dim, bi_dim)
    params = [c_in.weight, c_out.weight, b_in.weight, b_out.weight]
    opt = torch.optim.SparseAdam(params, lr=0.005)
    cid_t = torch.from_numpy(cid)
    bid_t = torch.from_numpy(bid)
    c_off = torch.tensor([-2, -1, 1, 2])
    b_off = torch.tensor([-2, -1, 2, 3])
    centres_c = torch.from_numpy(np.nonzero(cid > 1)[0])
    centres_b = torch.from_numpy(np.nonzero(bid > 1)[0])
    bs, neg = 16384, 5
    seen_c = torch.zeros(len(chars), dtype=torch.bool)
    seen_b = torch.zeros(len(bis), dtype=torch.bool)

    def step(centre_ids, ctx_ids, emb_in, emb_out) -> torch.Tensor:
        keep = ctx_ids > 1
        centre_ids, ctx_ids = centre_ids[keep], ctx_ids[keep]
        u = emb_in(centre_ids)
        pos_s = (u * emb_out(ctx_ids)).sum(1)
        negs = torch.multinomial(noise, len(centre_ids) * neg, replacement=True, generator=g).view(-1, neg)
        neg_s = torch.bmm(emb_out(negs), u.unsqueeze(2)).squeeze(2)
        return -(nn.functional.logsigmoid(pos_s).sum() + nn.functional.logsigmoid(-neg_s).sum()) / len(centre_ids)

    t0 = time.time()
    for ep in range(epochs):
        pc = centres_c[torch.randperm(len(centres_c), generator=g)]
        pb = centres_b[torch.randperm(len(centres_b), generator=g)]
        steps = max(len(pc), len(pb)) // bs + 1
        total = 0.0
        for k in range(steps):
            a = pc[k * bs : (k + 1) * bs]
            b = pb[k * bs : (k + 1) * bs]
            loss = torch.zeros(())
            if len(a):
                ctx = (a + c_off[torch.randint(0, 4, (len(a),), generator=g)]).clamp(0, n - 1)
                loss = loss + step(cid_t[a], cid_t[ctx], c_in, c_out)
                seen_c[cid_t[a]] = True
            if len(b):
                ctx = (b + b_off[torch.randint(0, 4, (len(b),), generator=g)]).clamp(0, n - 1)
                loss = loss + step(bid_t[b], cid_t[ctx], b_in, b_out)
                seen_b[bid_t[b]] = True
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss)
        log(f'  sgns epoch {ep + 1}/{epochs}: loss {total / steps:.4f} ({(time.time() - t0) / 60:.1f} min)')

    def rescale(w: torch.Tensor, seen: torch.Tensor) -> np.ndarray:
        w = w.detach().numpy().copy()
        w[seen.numpy()] = w[seen.numpy()] / (w[seen.numpy()].std() + 1e-8) * 0.1
        w[PAD] = 0
        return w.astype(np.float32)

    return rescale(c_in.weight, seen_c), rescale(b_in.weight, seen_b), seen_c.numpy(), seen_b.numpy()


def pretrain_encoder_lm(model: 'Tagger', texts: list[str], cidx: dict, bidx: dict, args, exclude: set[str], cache: Path) -> None:
    """ELMo-style language-model pre-training of the tagger's BiLSTM on unlabelled text, in place.

    The forward direction learns to predict the next character, the backward direction the previous
    one. Each direction only gets the inputs that do not show its target: the forward LSTM sees the
    character and the bigram ending there (t[i-1..i]), the backward LSTM the character and the bigram
    starting there (t[i..i+1]); the other bigram and the lexicon/word features are zero. The two
    directions are trained as separate one-way LSTMs of the tagger's shapes and copied into
    model.lstm (weight_*_l0 and weight_*_l0_reverse); the char embeddings are trained along (the
    bigram table too unless it is frozen). Output: adaptive softmax over the char vocabulary.
    Chunks equal to a dev chunk (`exclude`) are skipped. The result is cached by its settings."""
    lstm = model.lstm
    in_dim, hid = lstm.input_size, lstm.hidden_size
    cdim, bdim = model.char_emb.embedding_dim, model.bi_emb.embedding_dim
    key = hashlib.sha256(
        json.dumps([len(cidx), len(bidx), in_dim, hid, args.lm_mb, args.lm_epochs, args.seed, len(texts), sum(map(len, texts))]).encode()
    ).hexdigest()[:16]
    cached = cache / f'lm-{key}.pt'
    fwd = nn.LSTM(in_dim, hid, batch_first=True)
    bwd = nn.LSTM(in_dim, hid, batch_first=True)
    n_chars = len(cidx)
    cut = [c for c in (500, 2500) if c < n_chars - 1]
    heads = nn.ModuleList([nn.AdaptiveLogSoftmaxWithLoss(hid, n_chars, cut or [n_chars // 2], div_value=4.0) for _ in range(2)])
    if cached.exists():
        state = torch.load(cached)
        fwd.load_state_dict(state['fwd'])
        bwd.load_state_dict(state['bwd'])
        model.char_emb.weight.data.copy_(state['char_emb'])
        log(f'  encoder LM from {cached.name}')
    else:
        budget = int(args.lm_mb * 1e6) if not args.smoke else 100_000
        chunks, used = [], 0
        for t in texts:
            for a, b in segment(t):
                piece = t[a:b]
                if b - a < 4 or piece in exclude:
                    continue
                chunks.append(piece)
                used += b - a
            if used >= budget:
                break
        data = [encode_chunk(c, cidx, bidx)[:3] for c in chunks]
        log(f'  encoder LM: {len(chunks):,} chunks, {used:,} code units, {args.lm_epochs} epoch(s)')
        drop = nn.Dropout(0.1)
        params = [p for m in (fwd, bwd, heads) for p in m.parameters()] + [model.char_emb.weight]
        if model.bi_emb.weight.requires_grad:
            params.append(model.bi_emb.weight)
        opt = torch.optim.Adam(params, lr=2e-3)
        g = random.Random(args.seed + 1)
        t0 = time.time()
        bs = 64
        for ep in range(args.lm_epochs):
            order = sorted(range(len(data)), key=lambda i: (len(data[i][0]), g.random()))
            groups = [order[j : j + bs] for j in range(0, len(order), bs)]
            g.shuffle(groups)
            total, count = 0.0, 0
            for k, grp in enumerate(groups):
                n = max(len(data[i][0]) for i in grp)
                c = torch.zeros(len(grp), n, dtype=torch.long)
                bl = torch.zeros(len(grp), n, dtype=torch.long)
                br = torch.zeros(len(grp), n, dtype=torch.long)
                for r, i in enumerate(grp):
                    ci, li, ri = data[i]
                    c[r, : len(ci)] = torch.tensor(ci)
                    bl[r, : len(ci)] = torch.tensor(li)
                    br[r, : len(ci)] = torch.tensor(ri)
                lengths = (c != PAD).sum(1)
                ce = model.char_emb(c)
                zb = torch.zeros(len(grp), n, bdim)
                rest = torch.zeros(len(grp), n, in_dim - cdim - 2 * bdim)
                xf = drop(torch.cat([ce, model.bi_emb(bl), zb, rest], 2))
                xb = drop(torch.cat([ce, zb, model.bi_emb(br), rest], 2))
                # backward direction: reverse each sequence within its length
                idx = torch.arange(n).unsqueeze(0).expand(len(grp), n)
                rev = (lengths.unsqueeze(1) - 1 - idx).clamp(min=0)
                xb = xb.gather(1, rev.unsqueeze(2).expand_as(xb))
                cb = c.gather(1, rev) * (idx < lengths.unsqueeze(1))
                hf, _ = fwd(nn.utils.rnn.pack_padded_sequence(xf, lengths, batch_first=True, enforce_sorted=False))
                hb, _ = bwd(nn.utils.rnn.pack_padded_sequence(xb, lengths, batch_first=True, enforce_sorted=False))
                hf, _ = nn.utils.rnn.pad_packed_sequence(hf, batch_first=True, total_length=n)
                hb, _ = nn.utils.rnn.pad_packed_sequence(hb, batch_first=True, total_length=n)
                loss = torch.zeros(())
                for h, tgt, head in ((hf, c, heads[0]), (hb, cb, heads[1])):
                    hh, tt = drop(h[:, :-1]).reshape(-1, hid), tgt[:, 1:].reshape(-1)
                    keep = tt != PAD
                    loss = loss + head(hh[keep], tt[keep]).loss
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, 5.0)
                opt.step()
                total += float(loss) / 2
                count += 1
                if (k + 1) % 500 == 0:
                    log(f'    LM step {k + 1}/{len(groups)}: loss {total / count:.3f} ({(time.time() - t0) / 60:.1f} min)')
                    total, count = 0.0, 0
            log(f'  encoder LM epoch {ep + 1}/{args.lm_epochs} done ({(time.time() - t0) / 60:.1f} min)')
        torch.save({'fwd': fwd.state_dict(), 'bwd': bwd.state_dict(), 'char_emb': model.char_emb.weight.data.clone()}, cached)
    with torch.no_grad():
        for name in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):
            getattr(lstm, f'{name}_l0').copy_(getattr(fwd, f'{name}_l0'))
            getattr(lstm, f'{name}_l0_reverse').copy_(getattr(bwd, f'{name}_l0'))


# --------------------------------------------------------------------------- model
class Crf(nn.Module):
    def __init__(self, labels: list[str]):
        super().__init__()
        k = len(labels)
        self.trans = nn.Parameter(torch.zeros(k, k))
        self.start = nn.Parameter(torch.zeros(k))
        self.end = nn.Parameter(torch.zeros(k))
        allowed, s_ok, e_ok = allowed_transitions(labels)
        self.register_buffer('c_trans', torch.tensor(np.where(allowed, 0.0, -1e4), dtype=torch.float32))
        self.register_buffer('c_start', torch.tensor(np.where(s_ok, 0.0, -1e4), dtype=torch.float32))
        self.register_buffer('c_end', torch.tensor(np.where(e_ok, 0.0, -1e4), dtype=torch.float32))

    def _mats(self):
        return self.trans + self.c_trans, self.start + self.c_start, self.end + self.c_end

    def nll(self, emis: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.nll_rows(emis, tags, mask).sum()

    def nll_rows(self, emis: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the gold tags, per batch row."""
        trans, start, end = self._mats()
        b, t, _ = emis.shape
        maskf = mask.float()
        lengths = mask.sum(1)
        # gold score
        e_gold = emis.gather(2, tags.unsqueeze(2)).squeeze(2)
        score = start[tags[:, 0]] + (e_gold * maskf).sum(1)
        tr = trans[tags[:, :-1], tags[:, 1:]] * maskf[:, 1:]
        score = score + tr.sum(1)
        last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)
        score = score + end[last]
        # partition
        log_z = torch.logsumexp(self._forward(emis, mask, trans, start)[-1] + end.unsqueeze(0), dim=1)
        return log_z - score

    def _forward(self, emis: torch.Tensor, mask: torch.Tensor, trans, start) -> list[torch.Tensor]:
        """Forward log-scores alpha[i] (batch, labels) of every position (a padded position keeps the last)."""
        alpha = [start.unsqueeze(0) + emis[:, 0]]
        for i in range(1, emis.shape[1]):
            nxt = torch.logsumexp(alpha[-1].unsqueeze(2) + trans.unsqueeze(0), dim=1) + emis[:, i]
            alpha.append(torch.where(mask[:, i].unsqueeze(1), nxt, alpha[-1]))
        return alpha

    def soft_nll_rows(self, emis: torch.Tensor, q: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the CRF against soft targets `q` (batch, time, labels), per batch row: `q` holds
        per-position label marginals of a teacher (`marginals`). log Z minus the expected score, with
        the pairwise expectation taken as q[t-1] x q[t] over the learned transitions only (the constraint
        scores are constants, so they change the loss value, not its gradient). Its gradient on the
        emissions is the student's marginals minus the teacher's."""
        trans, start, end = self._mats()
        maskf = mask.float()
        log_z = torch.logsumexp(self._forward(emis, mask, trans, start)[-1] + end.unsqueeze(0), dim=1)
        expected = ((q * emis).sum(2) * maskf).sum(1)
        pair = torch.einsum('btk,kl,btl->bt', q[:, :-1], self.trans, q[:, 1:])
        expected = expected + (pair * maskf[:, 1:]).sum(1)
        expected = expected + (q[:, 0] * self.start).sum(1)
        last = (mask.sum(1) - 1).clamp(min=0)
        q_last = q.gather(1, last.view(-1, 1, 1).expand(-1, 1, q.shape[2])).squeeze(1)
        expected = expected + (q_last * self.end).sum(1)
        return log_z - expected

    @torch.no_grad()
    def marginals(self, emis: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Per-position label marginals (batch, time, labels) by forward-backward; padding rows are 0."""
        trans, start, end = self._mats()
        b, t, k = emis.shape
        alpha = self._forward(emis, mask, trans, start)
        lengths = mask.sum(1)
        beta = [None] * t
        nxt = end.unsqueeze(0).expand(b, k)
        for i in range(t - 1, -1, -1):
            # at the last real position beta is `end`; before it, one step back through trans
            is_last = (lengths - 1 == i).unsqueeze(1)
            if i == t - 1:
                cur = nxt
            else:
                step = torch.logsumexp(trans.unsqueeze(0) + (emis[:, i + 1] + beta[i + 1]).unsqueeze(1), dim=2)
                cur = torch.where(is_last, end.unsqueeze(0).expand(b, k), step)
            beta[i] = cur
        logp = torch.stack([a + bb for a, bb in zip(alpha, beta)], dim=1)
        logp = logp - torch.logsumexp(logp, dim=2, keepdim=True)
        return logp.exp() * mask.unsqueeze(2).float()

    @torch.no_grad()
    def decode(self, emis: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        trans, start, end = self._mats()
        b, t, k = emis.shape
        score = start.unsqueeze(0) + emis[:, 0]
        back = []
        for i in range(1, t):
            cand = score.unsqueeze(2) + trans.unsqueeze(0)
            best, arg = cand.max(1)
            nxt = best + emis[:, i]
            m = mask[:, i].unsqueeze(1)
            score = torch.where(m, nxt, score)
            back.append(torch.where(m, arg, torch.arange(k).unsqueeze(0).expand(b, k)))
        score = score + end.unsqueeze(0)
        lengths = mask.sum(1).tolist()
        best_last = score.argmax(1).tolist()
        paths = []
        for bi in range(b):
            n = lengths[bi]
            tag = best_last[bi]
            path = [tag]
            for i in range(n - 2, -1, -1):
                tag = int(back[i][bi, tag])
                path.append(tag)
            paths.append(path[::-1])
        return paths


class Tagger(nn.Module):
    def __init__(
        self, n_chars: int, n_bis: int, char_dim: int, bi_dim: int, hidden: int, dropout: float, lex_dim: int = 0, aux: bool = False,
        word_dim: int = 0,
    ):
        super().__init__()
        self.lex_dim = lex_dim
        self.word_dim = word_dim
        self.char_emb = nn.Embedding(n_chars, char_dim, padding_idx=PAD)
        self.bi_emb = nn.Embedding(n_bis, bi_dim, padding_idx=PAD)
        self.drop = nn.Dropout(dropout)
        self.lstm = nn.LSTM(char_dim + 2 * bi_dim + lex_dim + word_dim, hidden, batch_first=True, bidirectional=True)
        self.head_main = nn.Linear(2 * hidden, len(bioes_labels(MAIN_TYPES)))
        self.head_sym = nn.Linear(2 * hidden, len(bioes_labels(SYM_TYPES)))
        self.crf_main = Crf(bioes_labels(MAIN_TYPES))
        self.crf_sym = Crf(bioes_labels(SYM_TYPES))
        if aux:  # CMeEE multi-task head: trains the encoder on more text; not exported to ONNX
            self.head_aux = nn.Linear(2 * hidden, len(bioes_labels(CMEEE_TYPES)))
            self.crf_aux = Crf(bioes_labels(CMEEE_TYPES))

    def encode(self, chars: torch.Tensor, bl: torch.Tensor, br: torch.Tensor, lengths: torch.Tensor, lex: torch.Tensor | None = None) -> torch.Tensor:
        parts = [self.char_emb(chars), self.bi_emb(bl), self.bi_emb(br)]
        if self.lex_dim or self.word_dim:
            parts.append(lex)  # lexicon features, then word features (the ONNX graph concatenates them in that order)
        x = torch.cat(parts, dim=2)
        x = self.drop(x)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=chars.shape[1])
        return self.drop(out)


# --------------------------------------------------------------------------- batching
LEXICON: Lexicon | None = None  # set in main() when --lexicon is given
WORDS: WordFeatures | None = None  # set in main() when --word-features is given


def extra_dim() -> int:
    return (LEXICON.dim if LEXICON else 0) + (WORDS.dim if WORDS else 0)


def extra_features(text: str) -> np.ndarray | None:
    """Per-character float features after the embeddings: lexicon bits, then word bits."""
    parts = ([LEXICON.features(text)] if LEXICON else []) + ([WORDS.features(text)] if WORDS else [])
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def encode_chunk(text: str, cidx: dict[str, int], bidx: dict[str, int]) -> tuple:
    """char ids, left bigram ids, right bigram ids, lexicon + word features (None without either)."""
    c = [cidx.get(ch, UNK) for ch in text]
    bg = [bidx.get(b, UNK) for b in bigrams(text)]
    return c, bg[:-1], bg[1:], extra_features(text)


def make_batch(items: list[tuple]):
    """items: (chars, left, right, lex or None, tags). Returns chars, bl, br, tags, mask, lengths, lex."""
    n = max(len(it[0]) for it in items)
    b = len(items)
    lex = torch.zeros(b, n, extra_dim()) if extra_dim() else None
    chars = torch.zeros(b, n, dtype=torch.long)
    bl = torch.zeros(b, n, dtype=torch.long)
    br = torch.zeros(b, n, dtype=torch.long)
    tags = torch.zeros(b, n, dtype=torch.long)
    mask = torch.zeros(b, n, dtype=torch.bool)
    for i, it in enumerate(items):
        c, l, r, f, t = it[:5]  # --distill items carry (teacher marginals, has gold tags) after these
        k = len(c)
        if lex is not None:
            lex[i, :k] = torch.from_numpy(f)
        chars[i, :k] = torch.tensor(c)
        bl[i, :k] = torch.tensor(l)
        br[i, :k] = torch.tensor(r)
        tags[i, :k] = torch.tensor(t)
        mask[i, :k] = True
    lengths = mask.sum(1)
    return chars, bl, br, tags, mask, lengths, lex


def distill_loss(model: 'Tagger', emis: torch.Tensor, items: list[tuple], tags, mask, alpha: float) -> torch.Tensor:
    """Main-head loss of a --distill batch: items are (chars, left, right, features, tags, marginals or
    None, has gold). A gold chunk with marginals: (1 - alpha) x CRF NLL + alpha x cross-entropy against the
    teacher; without: the NLL alone; a chunk of unlabelled text: the cross-entropy alone."""
    b, n, k = emis.shape
    q = torch.zeros(b, n, k)
    has_q = torch.zeros(b, dtype=torch.bool)
    gold = torch.zeros(b, dtype=torch.bool)
    for i, it in enumerate(items):
        if it[5] is not None:
            q[i, : len(it[0])] = it[5].float()
            has_q[i] = True
        gold[i] = it[6]
    w_nll = torch.where(has_q, 1.0 - alpha, 1.0) * gold.float()
    w_soft = torch.where(gold, alpha, 1.0) * has_q.float()
    loss = (model.crf_main.nll_rows(emis, tags, mask) * w_nll).sum() if bool(gold.any()) else emis.sum() * 0
    if bool(has_q.any()):
        loss = loss + (model.crf_main.soft_nll_rows(emis, q, mask) * w_soft).sum()
    return loss


def batches(data: list, batch_size: int, rng: random.Random) -> list[list]:
    order = list(range(len(data)))
    rng.shuffle(order)
    # sort within pools of 20 batches to reduce padding
    pool = batch_size * 20
    out = []
    for p in range(0, len(order), pool):
        part = sorted(order[p : p + pool], key=lambda i: len(data[i][0]))
        out += [[data[i] for i in part[j : j + batch_size]] for j in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------- evaluation
def spans_from_tags(tags: list[str]) -> list[tuple[int, int, str]]:
    spans = []
    start = -1
    for i, l in enumerate(tags):
        p, t = ('O', '') if l == 'O' else (l[0], l[2:])
        if p == 'S':
            spans.append((i, i + 1, t))
            start = -1
        elif p == 'B':
            start = i
        elif p == 'E' and start >= 0:
            spans.append((start, i + 1, t))
            start = -1
        elif p == 'O':
            start = -1
    return spans


@torch.no_grad()
def main_emissions(model: Tagger, chunks: list[str], cidx, bidx) -> torch.Tensor:
    """Main-head emissions (chunks, longest chunk, labels) of normalised chunk texts, batched and padded."""
    items = [(*encode_chunk(c, cidx, bidx), [0] * len(c)) for c in chunks]
    chars, bl, br, _, _, lengths, lex = make_batch(items)
    return model.head_main(model.encode(chars, bl, br, lengths, lex))


@torch.no_grad()
def tag_text(text: str, emissions, crf: Crf) -> set:
    """Main-head mentions (start, end, type) of one text: chunked as at inference, `emissions(chunk
    texts)` scored, each chunk decoded by `crf`."""
    norm = normalize(text)
    chunks = segment(text)
    if not chunks:
        return set()
    emis = emissions([norm[a:b] for a, b in chunks])
    mask = torch.zeros(len(chunks), emis.shape[1], dtype=torch.bool)
    for i, (a, b) in enumerate(chunks):
        mask[i, : b - a] = True
    labels = bioes_labels(MAIN_TYPES)
    found = set()
    for (a, _), path in zip(chunks, crf.decode(emis, mask)):
        for s, e, t in spans_from_tags([labels[x] for x in path]):
            found.add((a + s, a + e, t))
    return found


def predict_records(model: Tagger, records: list[dict], cidx, bidx) -> list[set]:
    model.eval()
    preds = [tag_text(r['text'], lambda chunks: main_emissions(model, chunks, cidx, bidx), model.crf_main) for r in records]
    model.train()
    return preds


def score(records: list[dict], preds: list[set]) -> dict:
    per = {t: [0, 0, 0] for t in MAIN_TYPES}  # tp, pred, gold
    for r, p in zip(records, preds):
        gold = {(e['start'], e['end'], CCKS2019_MAP[e['type']]) for e in r['entities']}
        for s in p:
            per[s[2]][1] += 1
            if s in gold:
                per[s[2]][0] += 1
        for g in gold:
            per[g[2]][2] += 1
    out = {}
    for t, (tp, np_, ng) in per.items():
        pr = tp / np_ if np_ else 0.0
        rc = tp / ng if ng else 0.0
        out[t] = {'precision': pr, 'recall': rc, 'f1': 2 * pr * rc / (pr + rc) if pr + rc else 0.0, 'support': ng}
    tp = sum(v[0] for v in per.values())
    np_ = sum(v[1] for v in per.values())
    ng = sum(v[2] for v in per.values())
    pr = tp / np_ if np_ else 0.0
    rc = tp / ng if ng else 0.0
    out['micro'] = {'precision': pr, 'recall': rc, 'f1': 2 * pr * rc / (pr + rc) if pr + rc else 0.0, 'support': ng}
    return out


# --------------------------------------------------------------------------- ONNX export
def export_onnx(model: Tagger, path: Path, opset: int) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h = model.lstm.hidden_size

    def reorder(w: np.ndarray) -> np.ndarray:  # torch i,f,g,o -> onnx i,o,f,c
        i, f, g, o = np.split(w, 4, axis=0)
        return np.concatenate([i, o, f, g], axis=0)

    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    w = np.stack([reorder(sd['lstm.weight_ih_l0']), reorder(sd['lstm.weight_ih_l0_reverse'])])
    r = np.stack([reorder(sd['lstm.weight_hh_l0']), reorder(sd['lstm.weight_hh_l0_reverse'])])
    b = np.stack(
        [
            np.concatenate([reorder(sd['lstm.bias_ih_l0']), reorder(sd['lstm.bias_hh_l0'])]),
            np.concatenate([reorder(sd['lstm.bias_ih_l0_reverse']), reorder(sd['lstm.bias_hh_l0_reverse'])]),
        ]
    )
    inits = [
        numpy_helper.from_array(sd['char_emb.weight'], 'char_emb'),
        numpy_helper.from_array(sd['bi_emb.weight'], 'bigram_emb'),
        numpy_helper.from_array(w, 'lstm_W'),
        numpy_helper.from_array(r, 'lstm_R'),
        numpy_helper.from_array(b, 'lstm_B'),
        numpy_helper.from_array(sd['head_main.weight'].T.copy(), 'main_W'),
        numpy_helper.from_array(sd['head_main.bias'], 'main_b'),
        numpy_helper.from_array(sd['head_sym.weight'].T.copy(), 'sym_W'),
        numpy_helper.from_array(sd['head_sym.bias'], 'sym_b'),
        numpy_helper.from_array(np.array([0, 0, -1], dtype=np.int64), 'shape_bt_'),
    ]
    nodes = [
        helper.make_node('Gather', ['char_emb', 'chars'], ['e_c']),
        helper.make_node('Gather', ['bigram_emb', 'bigrams_left'], ['e_l']),
        helper.make_node('Gather', ['bigram_emb', 'bigrams_right'], ['e_r']),
        helper.make_node(
            'Concat', ['e_c', 'e_l', 'e_r'] + (['lexicon'] if model.lex_dim else []) + (['words'] if model.word_dim else []), ['x_btd'], axis=2
        ),
        helper.make_node('Transpose', ['x_btd'], ['x_tbd'], perm=[1, 0, 2]),
        helper.make_node(
            'LSTM', ['x_tbd', 'lstm_W', 'lstm_R', 'lstm_B', 'lengths'], ['y'], direction='bidirectional', hidden_size=h
        ),
        helper.make_node('Transpose', ['y'], ['y_bt2h'], perm=[2, 0, 1, 3]),
        helper.make_node('Reshape', ['y_bt2h', 'shape_bt_'], ['hid']),
        helper.make_node('MatMul', ['hid', 'main_W'], ['main_mm']),
        helper.make_node('Add', ['main_mm', 'main_b'], ['emissions']),
        helper.make_node('MatMul', ['hid', 'sym_W'], ['sym_mm']),
        helper.make_node('Add', ['sym_mm', 'sym_b'], ['symptom_emissions']),
    ]
    k_main = sd['head_main.bias'].shape[0]
    k_sym = sd['head_sym.bias'].shape[0]
    graph = helper.make_graph(
        nodes,
        'yijian_ner_bilstm',
        [
            helper.make_tensor_value_info('chars', TensorProto.INT64, ['batch', 'time']),
            helper.make_tensor_value_info('bigrams_left', TensorProto.INT64, ['batch', 'time']),
            helper.make_tensor_value_info('bigrams_right', TensorProto.INT64, ['batch', 'time']),
            helper.make_tensor_value_info('lengths', TensorProto.INT32, ['batch']),
        ]
        + ([helper.make_tensor_value_info('lexicon', TensorProto.FLOAT, ['batch', 'time', model.lex_dim])] if model.lex_dim else [])
        + ([helper.make_tensor_value_info('words', TensorProto.FLOAT, ['batch', 'time', model.word_dim])] if model.word_dim else []),
        [
            helper.make_tensor_value_info('emissions', TensorProto.FLOAT, ['batch', 'time', k_main]),
            helper.make_tensor_value_info('symptom_emissions', TensorProto.FLOAT, ['batch', 'time', k_sym]),
        ],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)], producer_name='yijian-train')
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def average_states(states: list[dict]) -> dict:
    return {k: (sum(s[k].float() for s in states) / len(states)).to(states[0][k].dtype) for k in states[0]}


def train(model, args, main_data, sym_data, aux_data, dev, cidx, bidx, rng, cache, pseudo_data=(), soft_data=()):
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda ep: 1.0 / (1.0 + 0.05 * ep))
    best_f1, best_state, best_epoch = -1.0, None, -1
    best_avg_f1, best_avg_epoch, recent = -1.0, -1, []
    history = []
    t0 = time.time()
    for epoch in range(args.epochs):
        te = time.time()
        sym_take = rng.sample(sym_data, int(len(sym_data) * args.sym_weight))
        main_pool = main_data
        if pseudo_data:  # machine-labelled chunks (--pseudo) join the main head's pool, a share per epoch
            main_pool = main_data + rng.sample(pseudo_data, int(len(pseudo_data) * args.pseudo_weight))
        if soft_data:  # --distill: chunks of unlabelled text with only the teacher's marginals, a share per epoch
            main_pool = main_pool + rng.sample(soft_data, int(len(soft_data) * args.distill_weight))
        jobs = [('main', b) for b in batches(main_pool, args.batch_size, rng)]
        jobs += [('sym', b) for b in batches(sym_take, args.batch_size, rng)]
        if aux_data:
            aux_take = rng.sample(aux_data, int(len(aux_data) * args.cmeee_weight))
            jobs += [('aux', b) for b in batches(aux_take, args.batch_size, rng)]
        rng.shuffle(jobs)
        total = 0.0
        for head, items in jobs:
            chars_t, bl, br, tags, mask, lengths, lex = make_batch(items)
            hid = model.encode(chars_t, bl, br, lengths, lex)
            if head == 'main' and args.distill:
                loss = distill_loss(model, model.head_main(hid), items, tags, mask, args.distill_alpha)
            elif head == 'main':
                loss = model.crf_main.nll(model.head_main(hid), tags, mask)
            elif head == 'sym':
                loss = model.crf_sym.nll(model.head_sym(hid), tags, mask)
            else:
                loss = model.crf_aux.nll(model.head_aux(hid), tags, mask) * args.cmeee_loss
            loss = loss / len(items)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total += float(loss)
        sched.step()
        sc = score(dev, predict_records(model, dev, cidx, bidx))
        f1 = sc['micro']['f1']
        entry = {'epoch': epoch + 1, 'loss': total / len(jobs), 'dev_micro_f1': f1, 'minutes': round((time.time() - t0) / 60, 1)}
        avg_note = ''
        if args.average_last:
            recent.append({k: v.detach().clone() for k, v in model.state_dict().items()})
            del recent[: -args.average_last]
            if len(recent) == args.average_last:
                live = {k: v.clone() for k, v in model.state_dict().items()}
                avg = average_states(recent)
                model.load_state_dict(avg)
                af1 = score(dev, predict_records(model, dev, cidx, bidx))['micro']['f1']
                model.load_state_dict(live)
                entry['dev_micro_f1_avg_last'] = af1
                avg_note = f' | avg of last {args.average_last}: F1 {af1:.4f}'
                if af1 > best_avg_f1:
                    best_avg_f1, best_avg_epoch = af1, epoch + 1
                    torch.save(avg, cache / f'{args.run_name}.avg.pt')
        history.append(entry)
        log(
            f'epoch {epoch + 1}/{args.epochs} loss {total / len(jobs):.3f} dev P {sc["micro"]["precision"]:.4f} '
            f'R {sc["micro"]["recall"]:.4f} F1 {f1:.4f} ({time.time() - te:.0f}s, total {(time.time() - t0) / 60:.1f} min){avg_note}'
        )
        if f1 > best_f1:
            best_f1, best_epoch = f1, epoch + 1
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
            torch.save(best_state, cache / f'{args.run_name}.best.pt')
        (cache / f'{args.run_name}.history.json').write_text(json.dumps(history))

    if args.average_last and best_avg_f1 > best_f1:  # ship the averaged weights when they score higher
        log(f'averaged weights of epochs {best_avg_epoch - args.average_last + 1}-{best_avg_epoch} score {best_avg_f1:.4f} > {best_f1:.4f}')
        args.checkpoint_note = f'average of the weights after epochs {best_avg_epoch - args.average_last + 1}-{best_avg_epoch}'
        return torch.load(cache / f'{args.run_name}.avg.pt'), best_avg_epoch, history
    return best_state, best_epoch, history


def parse_history(log_path: Path) -> list[dict]:
    """Epoch lines of a training log (or a history.json written by train())."""
    if log_path.suffix == '.json':
        return json.loads(log_path.read_text())
    import re

    out = []
    for line in log_path.read_text(encoding='utf-8').splitlines():
        m = re.search(r'epoch (\d+)/\d+ loss ([\d.]+) dev P [\d.]+ R [\d.]+ F1 ([\d.]+) .*total ([\d.]+) min', line)
        if m:
            out.append(
                {
                    'epoch': int(m.group(1)),
                    'loss': float(m.group(2)),
                    'dev_micro_f1': float(m.group(3)),
                    'minutes': float(m.group(4)),
                }
            )
    return out


def model_card(meta: dict, final: dict, digest: str, out: Path, bench: dict | None) -> str:
    a = meta['args']
    lex = meta.get('lexicon')
    lex_intro = (
        f" plus {lex['features']} lexicon features per character ({len(lex['types'])} types x B/M/E/S of every term of\n"
        f"our own knowledge-graph lexicon that matches there, {lex['terms']:,} terms in `lexicon.json`),"
        if lex
        else ','
    )
    lex_input = f", `lexicon` (float32 [batch, time, {lex['features']}])" if lex else ''
    wf = meta.get('word_features')
    if wf:
        lex_intro = (lex_intro[:-1] if lex else '') + (
            f"{',' if lex else ''} plus {wf['features']} word-boundary features per character\n(B/M/E/S of the word jieba cuts there: "
            f"`{wf['package']}` {wf['version']}, its default dictionary, HMM {'on' if wf['hmm'] else 'off'}, on the normalised chunk),"
        )
        lex_input += f", `words` (float32 [batch, time, {wf['features']}])"
    lex_row = (
        "| `lexicon.json` | the lexicon of the features: our knowledge graph's `lexicon()` by type, written by `models/ner/train/export_lexicon.mjs`; "
        "matched on the normalised chunk text by `Lexicon.features` in train.py and `LexiconFeaturizer` in TypeScript (same bits, checked by the parity test) |\n"
        if lex
        else ''
    )
    rows = '\n'.join(
        f"| {t} | {final[t]['precision'] * 100:.2f} | {final[t]['recall'] * 100:.2f} | {final[t]['f1'] * 100:.2f} | {final[t]['support']} |"
        for t in MAIN_TYPES + ['micro']
    )
    size = (out / 'model.onnx').stat().st_size / 1e6
    if bench:
        speed = (
            f"Measured by `pnpm bench:ner` (Node {bench.get('node', '20')}, onnxruntime-node 1.30.0, one intra-op thread, "
            f"batch 64, on the shared 2-core development machine while other jobs ran):\n\n"
            f"| metric | value |\n|---|---:|\n"
            f"| model load | {bench['loadMs']} ms |\n"
            f"| characters / second, one core (whole path: normalise, chunk, ONNX, Viterbi, mentions) | {bench['charsPerSecondOneCore']:,} |\n"
            f"| characters / CPU-second | {bench['charsPerCpuSecond']:,} |\n"
            f"| resident memory after the run | {bench['rssMb']} MB |\n"
        )
    else:
        speed = 'Run `pnpm bench:ner` to measure load time, characters per second on one core and memory.\n'
    hist = ', '.join(f"{h['epoch']}: {h['dev_micro_f1'] * 100:.2f}" for h in meta['history'])
    if a.get('average_last'):
        hist += (
            f". Average of the weights of the last {a['average_last']} epochs, by epoch: "
            + ', '.join(f"{h['epoch']}: {h['dev_micro_f1_avg_last'] * 100:.2f}" for h in meta['history'] if 'dev_micro_f1_avg_last' in h)
        )
    if a.get('pretrain') == 'sgns':
        pretrain_text = (
            f"* Character and bigram embeddings initialised by skip-gram with negative sampling (window 2, 5 negatives,\n"
            f"  {a['sgns_epochs']} epochs, in torch) over the training texts, the CMeEE texts (text only) and all of\n"
            f"  `../shared/unlabeled` (medical Q&A and encyclopaedia text, research use only); the vocabulary adds the\n"
            f"  chars (count >= {a['pretrain_char_min_count']}) and up to {a['pretrain_bigram_cap']:,} bigrams (count >= {a['pretrain_bigram_min_count']}) of that text"
            + ('; the bigram vectors stay fixed during training.' if a.get('freeze_bigrams') else '.')
        )
    else:
        pretrain_text = (
            f"* Character embeddings initialised from PPMI statistics (window 2) over the training texts and the\n"
            f"  first {a['limit_unlabeled_mb']:.0f} MB of `../shared/unlabeled` (medical Q&A and encyclopaedia text)."
        )
    if a.get('cmeee_weight'):
        pretrain_text += (
            f"\n* CMeEE (CBLUE) train, 15,000 sentences of medical reference text, research use only: an auxiliary\n"
            f"  tagging head (its own nine labels and CRF, {a['cmeee_weight']:.0%} of the chunks per epoch, loss weight {a['cmeee_loss']}),\n"
            f"  not exported: it only shapes the shared encoder."
        )
    if a.get('lm_mb'):
        pretrain_text += (
            f"\n* The BiLSTM pre-trained as two one-way character language models ({a['lm_epochs']} epoch(s) over the first\n"
            f"  {a['lm_mb']:g} M code units of `../shared/unlabeled` and, if that is shorter, the training texts; dev chunks skipped):\n"
            f"  the forward direction predicts the next character from the character and the bigram ending there, the\n"
            f"  backward direction the previous one from the character and the bigram starting there."
        )
    if a.get('pseudo'):
        pretrain_text += (
            f"\n* Machine-labelled records for the main head ({a['pseudo_weight']:.0%} of their chunks per epoch): `{Path(a['pseudo']).name}`,\n"
            f"  written by `ensemble.py --pseudo-out` (an ensemble of earlier models of this family tagging the texts of\n"
            f"  CCKS 2017 train and `cmb_clin_cases.txt` of `../shared/unlabeled`); no human labels of those texts are used."
        )
    if a.get('distill'):
        teacher = a.get('distill_teacher') or {}
        members = ', '.join(f'`{m}`' for m in teacher.get('members', [])) or 'earlier models of this family'
        f1 = f", dev micro-F1 {teacher['dev_micro_f1'] * 100:.2f}" if teacher.get('dev_micro_f1') else ''
        pretrain_text += (
            f"\n* Knowledge distillation (`train.py --distill`, alpha {a['distill_alpha']}) from an ensemble of {len(teacher.get('members', [])) or 'several'}\n"
            f"  models of this family trained on the same data ({members}{f1}): `ensemble.py --soft-out` averaged\n"
            f"  their emissions and CRF transitions and wrote each character's label marginals (forward-backward). Gold\n"
            f"  chunks train on (1 - alpha) x CRF NLL + alpha x cross-entropy against those marginals; the chunks of\n"
            f"  CCKS 2017 train's texts and of `cmb_clin_cases.txt` in `../shared/unlabeled` ({a['distill_weight']:.0%} per epoch) on\n"
            f"  the cross-entropy alone (no human labels of those texts are used)."
        )
    distill_note = (
        '; with distillation `pnpm train:ner` runs `train_distilled.sh`, which first trains the four teachers two at a time'
        ' and writes their marginals: about 95 min in all on a quiet 2-core machine'
        if a.get('distill')
        else ''
    )
    if meta.get('checkpoint'):
        pretrain_text += f"\n* Shipped weights: {meta['checkpoint']}."
    return f"""# Model card: {meta['name']} {meta['version']}

Chinese clinical named-entity recogniser for EMR text (入院记录, 病程记录, 手术记录, 出院记录, pathology
narrative). Character ({a['char_dim']}) + bigram (2 x {a['bigram_dim']}) embeddings{lex_intro} one bidirectional LSTM ({a['hidden']} units per direction),
two linear emission heads, CRF transitions decoded in TypeScript with BIOES constraints.
Produced by `models/ner/train/train.py` (`pnpm train:ner`); runs in Node through `createOnnxTagger`
of `@yijian/ner`. No Python at run time.

## Files

| file | what |
|---|---|
| `model.onnx` | emissions only, opset {a['opset']}, {size:.2f} MB, sha256 `{digest}`. Inputs `chars`, `bigrams_left`, `bigrams_right` (int64 [batch, time]), `lengths` (int32 [batch]){lex_input}; outputs `emissions` [batch, time, 25] and `symptom_emissions` [batch, time, 5] |
| `vocab.json` | character and bigram vocabularies (index 0 = padding, 1 = unknown; bigram i = text[i-1..i] with `\\u0002`/`\\u0003` at the edges) |
{lex_row}| `labels.json` | BIOES labels of each head and the corpus-label mapping |
| `crf.json` | learned CRF transition, start and end scores per head (constraints are added at decode time) |
| `training.json` | arguments, data counts, per-epoch dev scores, dev scores of the shipped weights, an export-parity sample |

## Entity types and label mapping

| our type | CCKS 2019 / 2020 label | CCKS 2017 label | head |
|---|---|---|---|
| disease | 疾病和诊断 | (not used) | emissions |
| imaging | 影像检查 | (not used) | emissions |
| lab | 实验室检验 | (not used) | emissions |
| operation | 手术 | (not used) | emissions |
| drug | 药物 | (not used) | emissions |
| anatomy | 解剖部位 | (not used) | emissions |
| symptom | (not annotated) | 症状和体征 | symptom_emissions |

The two heads share the encoder and are decoded independently, so a symptom may overlap a CCKS 2019
span (e.g. 腹痛 as symptom and 腹 as anatomy): CCKS 2019 nests anatomy inside findings, CCKS 2017
annotates the whole finding. CCKS 2017's other labels (检查和检验, 治疗, 身体部位, 疾病和诊断) follow
different guidelines and were not used.

## Training data and its terms

All from `../shared/corpora` (never committed to this repository):

* CCKS 2019 task 1 (Yidu-S4K) train: {meta['train_records']['ccks2019']} records for training; the **dev split** is the
  {meta['dev']['records']} records whose 1-based line number is a multiple of 10 (never trained on, used to pick the epoch).
* CCKS 2020 task 3.1 (filtered): the {meta['train_records']['ccks2020_new']} records that are not copies of CCKS 2019 train
  (ids in `ids_also_in_ccks2019_train.txt` dropped; the conversion already removed the CCKS 2019 test set).
* CCKS 2017 CNER train: {meta['train_records']['ccks2017']} section documents, only 症状和体征 (symptom head); {int(a['sym_weight'] * 100)}% of them sampled per epoch.
{pretrain_text}

**Terms.** The CCKS organisers state that these datasets are for CCKS evaluation use only (the
CCKS 2019/2020 data was written and annotated by Yidu Cloud; CCKS 2017 by JIMU Cloud Health); the
source repositories carry no licence, and the unlabelled text is for research only. These weights are
derived from that data: treat them as a research and evaluation artifact. Before using the model in a
product, retrain it on data you have the right to use (see below).

## Dev-split scores (strict: exact span and type)

Scores of the shipped weights on the dev split (the split also chose the epoch, so this is slightly
optimistic; the CCKS 2019 official test set is held out elsewhere and was never seen here).
Best epoch {meta['best_epoch']} of {a['epochs']}; training took {meta['train_minutes']} min on one CPU thread.

| type | P | R | F1 | gold |
|---|---:|---:|---:|---:|
{rows}

Dev micro-F1 by epoch: {hist}.

The symptom head has no held-out gold from the same guideline (all CCKS 2017 was used for training);
its quality is unmeasured here.

## Speed

{speed}
## Limits

* Trained on inpatient narrative from two hospitals' de-identified records (Yidu, JIMU); other
  document types (nursing notes, outpatient notes, radiology reports) are out of distribution.
* Flat tagging: nested entities are not produced within one head.
* Digits are folded to 0 and Latin letters to lower case before tagging; the output offsets and text
  are always those of the original input.

## Retraining on a hospital's own annotated records

1. Export your annotations as JSONL, one document per line:
   `{{"id": "...", "text": "...", "entities": [{{"start": 0, "end": 3, "type": "疾病和诊断"}}]}}`
   with UTF-16 offsets, end exclusive (the format of `../shared/corpora`). Use the CCKS 2019 label
   names (or edit `CCKS2019_MAP` in `train.py` for your own labels; the label list follows it).
2. Put the file where `train.py` reads CCKS 2019 (`$YIJIAN_SHARED_DIR/corpora/ccks2019/train.jsonl`),
   or change the paths at the top of `main()`; every 10th record becomes the dev split.
3. `YIJIAN_SHARED_DIR=/path/to/your/data pnpm train:ner -- --out models/ner/<new-version>`
   (one CPU thread; about {meta['train_minutes']} min for ~1,100 records here{distill_note}). Then
   `pnpm bench:ner -- --model models/ner/<new-version>` for speed and strict scores, and load it with
   `createOnnxTagger({{ modelDir: 'models/ner/<new-version>' }})`.
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=str(REPO / 'models/ner/1.0.0'))
    ap.add_argument('--seed', type=int, default=20261129)
    ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--batch-size', type=int, default=24)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--char-dim', type=int, default=64)
    ap.add_argument('--bigram-dim', type=int, default=32)
    ap.add_argument('--hidden', type=int, default=64)
    ap.add_argument('--dropout', type=float, default=0.35)
    ap.add_argument('--bigram-min-count', type=int, default=2)
    ap.add_argument('--sym-weight', type=float, default=0.5, help='share of CCKS 2017 chunks used per epoch')
    ap.add_argument('--no-pretrain', action='store_true')
    ap.add_argument('--opset', type=int, default=15)
    ap.add_argument('--smoke', action='store_true', help='tiny run to check the pipeline (not for shipping)')
    ap.add_argument(
        '--export-only',
        metavar='CHECKPOINT',
        help='skip training: load this checkpoint (e.g. models/ner/train/.cache/best.pt) and write the artifacts. The '
        'learning-rate schedule does not depend on --epochs, so the best.pt of a run stopped after N epochs is the one '
        '--epochs N would produce.',
    )
    ap.add_argument('--bench-json', metavar='FILE', help='output of `pnpm bench:ner -- --json` to quote in MODEL_CARD.md')
    ap.add_argument('--history-from', metavar='LOG', help='with --export-only: training log or history.json to report')
    ap.add_argument('--checkpoint-note', help='with --export-only: which weights these are, for MODEL_CARD.md and training.json')
    ap.add_argument('--limit-unlabeled-mb', type=float, default=20.0)
    ap.add_argument('--lexicon', metavar='FILE', help='lexicon.json from export_lexicon.mjs: adds per-character BMES lexicon features (copied into --out)')
    ap.add_argument('--threads', type=int, default=1, help='torch intra-op threads')
    ap.add_argument('--pretrain', choices=['ppmi', 'sgns'], default='ppmi', help='char (ppmi) or char + bigram (sgns) pre-training')
    ap.add_argument('--sgns-epochs', type=int, default=2)
    ap.add_argument('--pretrain-char-min-count', type=int, default=5, help='sgns: add chars this frequent in the unlabelled text')
    ap.add_argument('--pretrain-bigram-min-count', type=int, default=20, help='sgns: add bigrams this frequent in the unlabelled text')
    ap.add_argument('--pretrain-bigram-cap', type=int, default=40000, help='sgns: at most this many added bigrams')
    ap.add_argument('--cmeee-weight', type=float, default=0.0, help='share of CMeEE chunks per epoch for the auxiliary head (0: off)')
    ap.add_argument('--cmeee-loss', type=float, default=0.5, help='loss weight of the auxiliary CMeEE head')
    ap.add_argument('--freeze-bigrams', action='store_true', help='keep the pre-trained bigram vectors fixed (sgns)')
    ap.add_argument('--lm-mb', type=float, default=0.0, help='pre-train the BiLSTM as forward/backward char LMs on this many MB of the unlabelled text (0: off)')
    ap.add_argument('--lm-epochs', type=int, default=1)
    ap.add_argument('--pseudo', metavar='FILE', help='JSONL (corpora format, CCKS 2019 labels) of machine-labelled records for the main head (ensemble.py --pseudo-out)')
    ap.add_argument('--pseudo-weight', type=float, default=1.0, help='share of the --pseudo chunks used per epoch')
    ap.add_argument('--distill', metavar='FILE', help='teacher marginals from ensemble.py --soft-out: knowledge distillation into this model')
    ap.add_argument('--distill-alpha', type=float, default=0.5, help='--distill: weight of the teacher term on gold chunks (the NLL gets 1 - alpha)')
    ap.add_argument('--distill-weight', type=float, default=1.0, help='--distill: share of the unlabelled (teacher-only) chunks used per epoch')
    ap.add_argument('--average-last', type=int, default=0, help='also score the average of the last K epoch weights each epoch')
    ap.add_argument('--word-features', choices=['none', 'jieba'], default='none', help='jieba: per-character B/M/E/S word-boundary bits (segment.mjs)')
    ap.add_argument('--no-word-hmm', action='store_true', help='--word-features jieba without jieba\'s HMM for unknown words')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    global LEXICON, WORDS
    if args.lexicon:
        LEXICON = Lexicon(Path(args.lexicon))
        log(f'lexicon {args.lexicon}: {LEXICON.count} terms, {len(LEXICON.types)} types, {LEXICON.dim} features')
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np_rng = np.random.default_rng(args.seed)
    rng = random.Random(args.seed)

    shared = shared_dir()
    corpora = shared / 'corpora'
    if not corpora.is_dir():
        sys.exit(f'corpora not found at {corpora} (set YIJIAN_SHARED_DIR)')
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = HERE / '.cache'
    cache.mkdir(exist_ok=True)

    train19, dev, c20 = ccks_splits(corpora)
    c17 = read_jsonl(corpora / 'ccks2017/train.jsonl')
    # CMeEE: auxiliary head (--cmeee-weight) and/or unlabelled pre-training text (--pretrain sgns)
    cme = read_jsonl(corpora / 'cmeee/train.jsonl') if args.cmeee_weight > 0 or args.pretrain == 'sgns' else []
    if args.smoke:
        train19, dev, c20, c17, cme = train19[:40], dev[:10], c20[:10], c17[:40], cme[:200]
    if cme:
        log(f'cmeee {len(cme)}: ' + (f'auxiliary head, {args.cmeee_weight:.0%} per epoch, loss weight {args.cmeee_loss}' if args.cmeee_weight > 0 else 'pre-training text only'))
    log(f'ccks2019 train {len(train19)}, dev {len(dev)}, ccks2020 new {len(c20)}, ccks2017 {len(c17)}')
    dev_texts = {r['text'] for r in dev}
    leak = [r['id'] for r in train19 + c20 if r['text'] in dev_texts]
    if leak:
        log(f'  dropping {len(leak)} training records whose text equals a dev text: {leak}')
        train19 = [r for r in train19 if r['text'] not in dev_texts]
        c20 = [r for r in c20 if r['text'] not in dev_texts]

    main_labels = bioes_labels(MAIN_TYPES)
    sym_labels = bioes_labels(SYM_TYPES)
    main_chunks = make_chunks(train19 + c20, CCKS2019_MAP, main_labels)
    sym_chunks = make_chunks(c17, CCKS2017_MAP, sym_labels)
    aux_chunks = make_chunks(cme, CMEEE_MAP, bioes_labels(CMEEE_TYPES)) if args.cmeee_weight > 0 else []
    pseudo_chunks: list = []
    if args.pseudo:
        # not part of the vocabulary: its texts are CCKS 2017's (already in the symptom chunks) and unlabelled text
        pseudo = [r for r in read_jsonl(Path(args.pseudo)) if r['text'] not in dev_texts]
        pseudo_chunks = make_chunks(pseudo[:40] if args.smoke else pseudo, CCKS2019_MAP, main_labels)
        log(f'pseudo-labelled: {len(pseudo)} records from {args.pseudo}, {len(pseudo_chunks)} chunks, {args.pseudo_weight:.0%} per epoch')
    log(f'chunks: main {len(main_chunks)}, symptom {len(sym_chunks)}, cmeee {len(aux_chunks)}')

    chars, bis = build_vocab([t for t, _ in main_chunks + sym_chunks + aux_chunks], args.bigram_min_count)
    pre_texts: list[str] = []
    if not args.no_pretrain and (not args.export_only or args.pretrain == 'sgns'):  # sgns: the texts also extend the vocabulary
        pre_texts = [normalize(r['text']) for r in train19 + c20 + c17 + cme]
        budget = int(args.limit_unlabeled_mb * 1e6)
        used = 0
        unl = shared / 'unlabeled'
        for f in sorted(unl.glob('*.txt')) if unl.is_dir() else []:
            with open(f, encoding='utf-8') as fh:
                for line in fh:
                    if used >= (budget if not args.smoke else 200_000):
                        break
                    pre_texts.append(normalize(line.rstrip('\n')))
                    used += len(line)
        if args.pretrain == 'sgns':
            chars, bis = extend_vocab(
                chars, bis, pre_texts, args.pretrain_char_min_count, args.pretrain_bigram_min_count, args.pretrain_bigram_cap
            )
    cidx = {c: i for i, c in enumerate(chars)}
    bidx = {b: i for i, b in enumerate(bis)}
    log(f'vocab: {len(chars)} chars, {len(bis)} bigrams')

    model = Tagger(
        len(chars), len(bis), args.char_dim, args.bigram_dim, args.hidden, args.dropout, LEXICON.dim if LEXICON else 0, aux=bool(aux_chunks),
        word_dim=WordFeatures.dim if args.word_features == 'jieba' else 0,
    )
    if args.export_only:
        pass
    elif pre_texts and args.pretrain == 'ppmi':
        log(f'pre-training char embeddings (PPMI) on {len(pre_texts)} texts')
        emb = ppmi_char_embeddings(chars, pre_texts, args.char_dim, 2, np_rng)
        model.char_emb.weight.data.copy_(torch.from_numpy(emb))
    elif pre_texts:
        log(f'pre-training char and bigram embeddings (SGNS) on {len(pre_texts)} texts')
        key = hashlib.sha256(
            json.dumps([chars, bis, args.char_dim, args.bigram_dim, args.sgns_epochs, args.seed, len(pre_texts), sum(map(len, pre_texts))]).encode()
        ).hexdigest()[:16]
        cached = cache / f'sgns-{key}.npz'
        if cached.exists():
            z = np.load(cached)
            ce, be, seen_c, seen_b = z['ce'], z['be'], z['seen_c'], z['seen_b']
            sgns_tables(len(chars), len(bis), args.char_dim, args.bigram_dim)  # same global RNG state as a fresh run
            log(f'  sgns vectors from {cached.name}')
        else:
            ce, be, seen_c, seen_b = sgns_embeddings(chars, bis, pre_texts, args.char_dim, args.bigram_dim, args.sgns_epochs, args.seed)
            np.savez(cached, ce=ce, be=be, seen_c=seen_c, seen_b=seen_b)
        ce[~seen_c] = np_rng.normal(0, 0.1, size=(int((~seen_c).sum()), args.char_dim))
        be[~seen_b] = np_rng.normal(0, 0.1, size=(int((~seen_b).sum()), args.bigram_dim))
        ce[PAD] = 0
        be[PAD] = 0
        model.char_emb.weight.data.copy_(torch.from_numpy(ce))
        model.bi_emb.weight.data.copy_(torch.from_numpy(be))
        if args.freeze_bigrams:
            model.bi_emb.weight.requires_grad_(False)
        log(f'  pre-trained {int(seen_c.sum())} of {len(chars)} chars, {int(seen_b.sum())} of {len(bis)} bigrams')
    if args.lm_mb > 0 and not args.export_only:
        log('pre-training the encoder as two one-way character LMs')
        dev_chunks = set(chunk_texts(r['text'] for r in dev))
        # unlabelled text first (pre_texts starts with the labelled training texts)
        n_lab = len(train19) + len(c20) + len(c17) + len(cme)
        pretrain_encoder_lm(model, pre_texts[n_lab:] + pre_texts[:n_lab], cidx, bidx, args, dev_chunks, cache)
    del pre_texts

    sample = '患者3月前因直肠癌于我院行直肠癌根治术，术后予奥沙利铂化疗，复查CT示肝脏多发转移，血常规未见异常，诉腹痛、恶心。'
    if args.word_features == 'jieba':
        WORDS = WordFeatures(cache / f"words-jieba{'' if not args.no_word_hmm else '-nohmm'}.json", hmm=not args.no_word_hmm)
        dev_chunks = chunk_texts(r['text'] for r in dev)
        WORDS.ensure([t for t, _ in main_chunks + sym_chunks + aux_chunks] + dev_chunks + [normalize(sample)])
        log(f"word features: jieba {WORDS.spec['version']} (hmm {WORDS.hmm}), {len(WORDS.words)} texts in {WORDS.cache_path.name}")
    log('encoding chunks' + (' (with lexicon features)' if LEXICON else '') + (' (with word features)' if WORDS else ''))
    main_data = [(*encode_chunk(t, cidx, bidx), tags) for t, tags in main_chunks]
    sym_data = [(*encode_chunk(t, cidx, bidx), tags) for t, tags in sym_chunks]
    aux_data = [(*encode_chunk(t, cidx, bidx), tags) for t, tags in aux_chunks]
    pseudo_data = [(*encode_chunk(t, cidx, bidx), tags) for t, tags in pseudo_chunks]
    soft_data: list = []
    if args.distill:
        teacher_file = torch.load(args.distill)
        soft = teacher_file['marginals']
        args.distill_teacher = teacher_file['teacher']  # recorded in training.json and the model card
        dev_chunk_texts = set(chunk_texts(r['text'] for r in dev))
        main_texts = {t for t, _ in main_chunks}
        main_data = [(*item, soft.get(t), True) for item, (t, _) in zip(main_data, main_chunks)]
        extra = sorted(t for t in soft if t not in main_texts and t not in dev_chunk_texts)
        soft_data = [(*encode_chunk(t, cidx, bidx), [0] * len(t), soft[t], False) for t in (extra[:200] if args.smoke else extra)]
        covered = sum(1 for it in main_data if it[5] is not None)
        log(f'distillation: teacher marginals for {covered} of {len(main_data)} main chunks, {len(soft_data)} unlabelled chunks '
            f'({args.distill_weight:.0%} per epoch), alpha {args.distill_alpha}')
        del soft, teacher_file

    args.run_name = out.name
    if args.export_only:
        best_state = torch.load(args.export_only)
        args.checkpoint_note = args.checkpoint_note or f'checkpoint {Path(args.export_only).name}'
        history = parse_history(Path(args.history_from)) if args.history_from else []
        best_epoch = max(history, key=lambda h: h['dev_micro_f1'])['epoch'] if history else -1
        args.epochs = len(history) or args.epochs
    else:
        best_state, best_epoch, history = train(model, args, main_data, sym_data, aux_data, dev, cidx, bidx, rng, cache, pseudo_data, soft_data)

    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    final = score(dev, predict_records(model, dev, cidx, bidx))
    model.eval()  # predict_records switches back to train mode
    log(f'best epoch {best_epoch}: dev micro F1 {final["micro"]["f1"]:.4f}')

    # ---- artifacts
    export_onnx(model, out / 'model.onnx', args.opset)
    if LEXICON and LEXICON.path.resolve() != (out / 'lexicon.json').resolve():
        (out / 'lexicon.json').write_bytes(LEXICON.path.read_bytes())
    (out / 'vocab.json').write_text(
        json.dumps({'chars': chars, 'bigrams': bis, 'bos': BOS, 'eos': EOS, 'pad': PAD, 'unk': UNK}, ensure_ascii=False),
        encoding='utf-8',
    )

    def crf_json(crf: Crf) -> dict:
        return {
            'transitions': crf.trans.detach().numpy().round(6).tolist(),
            'start': crf.start.detach().numpy().round(6).tolist(),
            'end': crf.end.detach().numpy().round(6).tolist(),
        }

    (out / 'labels.json').write_text(
        json.dumps(
            {
                'scheme': 'BIOES',
                'heads': [
                    {'output': 'emissions', 'labels': main_labels},
                    {'output': 'symptom_emissions', 'labels': sym_labels},
                ],
                'mapping': {'ccks2019': CCKS2019_MAP, 'ccks2017': CCKS2017_MAP},
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding='utf-8',
    )
    (out / 'crf.json').write_text(
        json.dumps({'emissions': crf_json(model.crf_main), 'symptom_emissions': crf_json(model.crf_sym)}), encoding='utf-8'
    )
    # parity fixture for the TypeScript side (our own sentence, not corpus text; `sample` is set above)
    ns = normalize(sample)
    c, l, r_, f_ = encode_chunk(ns, cidx, bidx)
    with torch.no_grad():
        chars_t, bl, br, _, mask, lengths, lex = make_batch([(c, l, r_, f_, [0] * len(c))])
        hid = model.encode(chars_t, bl, br, lengths, lex)
        em = model.head_main(hid)[0].numpy()
        es = model.head_sym(hid)[0].numpy()
        path = model.crf_main.decode(model.head_main(hid), mask)[0]
        spath = model.crf_sym.decode(model.head_sym(hid), mask)[0]
    meta = {
        'name': 'yijian-cner-bilstm-crf',
        'version': out.name,
        'created_by': 'models/ner/train/train.py',
        'args': vars(args),
        'max_len': MAX_LEN,
        'lexicon': (
            {'file': 'lexicon.json', 'types': LEXICON.types, 'features': LEXICON.dim, 'terms': LEXICON.count}
            if LEXICON
            else None
        ),
        # Present when the model takes the `words` input (per-character B/M/E/S of the jieba word).
        'word_features': ({**WORDS.spec, 'features': WORDS.dim} if WORDS else None),
        'normalization': 'fullwidth->halfwidth, U+3000/NBSP/TAB->space, A-Z->a-z, 0-9->0 (one code unit each)',
        'train_records': {'ccks2019': len(train19), 'ccks2020_new': len(c20), 'ccks2017': len(c17)},
        'dev': {'split': 'ccks2019 train records whose 1-based line number is a multiple of 10', 'records': len(dev)},
        'best_epoch': best_epoch,
        'checkpoint': getattr(args, 'checkpoint_note', None),
        'dev_scores': final,
        'history': history,
        'train_minutes': history[-1]['minutes'] if history else None,
        'parity': {
            'text': sample,
            'emissions_row0': em[0].round(5).tolist(),
            'emissions_last': em[-1].round(5).tolist(),
            'symptom_emissions_row0': es[0].round(5).tolist(),
            'main_path': [main_labels[x] for x in path],
            'symptom_path': [sym_labels[x] for x in spath],
            # [position, feature] of every lexicon bit set for the sample (checked by the TypeScript tests)
            'lexicon_bits': np.argwhere(f_[:, : LEXICON.dim] > 0).tolist() if LEXICON else None,
            # [position, feature] of every word bit set for the sample (B=0, M=1, E=2, S=3)
            'word_bits': np.argwhere(f_[:, extra_dim() - WORDS.dim :] > 0).tolist() if WORDS else None,
        },
    }
    (out / 'training.json').write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding='utf-8')
    digest = hashlib.sha256((out / 'model.onnx').read_bytes()).hexdigest()
    bench = json.loads(Path(args.bench_json).read_text()) if args.bench_json else None
    (out / 'MODEL_CARD.md').write_text(model_card(meta, final, digest, out, bench), encoding='utf-8')
    log(f'wrote {out} (model.onnx sha256 {digest[:16]}, {(out / "model.onnx").stat().st_size / 1e6:.2f} MB)')


if __name__ == '__main__':
    main()
