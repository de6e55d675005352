"""Compiled tokenizing and exact vocabulary lookup, for the default tokenizer.

``default_tokenize`` then ``dict.get`` costs a few hundred nanoseconds a token
in Python (a string object per token, hashed once). Here the lower-cased
documents become one array of code points, and a compiled loop finds the runs
of word characters and looks each one up in an open-addressing hash table of
the vocabulary, comparing code points, so the result is exactly that of
``default_tokenize`` and ``vocabulary.get(token, OOV)``, without one Python
object per token.
"""

import functools

import numpy as np

from .._numba_cache import cached_njit
from ._io import OOV, TOKEN_PATTERN

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
MAX_BATCH_CHARACTERS = 1 << 24
"""Documents are processed in batches of about this many characters (64 MiB of code points)."""


@functools.lru_cache(maxsize=1)
def word_characters():
    """Boolean table over all code points: True for the word characters of ``TOKEN_PATTERN``."""
    every = "".join(map(chr, range(0x110000)))
    table = np.zeros(0x110000, dtype=np.bool_)
    table[code_points("".join(TOKEN_PATTERN.findall(every)))] = True
    return table


def code_points(text):
    """The code points of ``text`` as uint32 (lone surrogates included, as ``len`` counts them)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


@cached_njit
def _hash(chars, start, stop):
    """FNV-1a over ``chars[start:stop]``."""
    value = FNV_OFFSET
    for i in range(start, stop):
        value = (value ^ np.uint64(chars[i])) * FNV_PRIME
    return value


@cached_njit
def _build_slots(chars, offsets, n_slots):
    slots = np.full(n_slots, -1, dtype=np.int32)
    for word in range(len(offsets) - 1):
        slot = np.int64(_hash(chars, offsets[word], offsets[word + 1]) & np.uint64(n_slots - 1))
        while slots[slot] != -1:
            slot = (slot + 1) & (n_slots - 1)
        slots[slot] = word
    return slots


@cached_njit
def _find(text, start, stop, value, chars, offsets, slots):
    """Row of the vocabulary word equal to ``text[start:stop]`` (hash ``value``), or -1."""
    mask = len(slots) - 1
    slot = np.int64(value & np.uint64(mask))
    length = stop - start
    while True:
        word = slots[slot]
        if word == -1:
            return -1
        first = offsets[word]
        if offsets[word + 1] - first == length:
            same = True
            for k in range(length):
                if chars[first + k] != text[start + k]:
                    same = False
                    break
            if same:
                return word
        slot = (slot + 1) & mask


@cached_njit
def _tokenize_lookup(
    text, starts, stops, is_word, chars, offsets, slots, first_id, oov, ids, lengths
):
    """Write the id of every word-character run of each document; return how many."""
    n = 0
    for document in range(len(starts)):
        i, stop, before = starts[document], stops[document], n
        while i < stop:
            if not is_word[text[i]]:
                i += 1
                continue
            j, value = i, FNV_OFFSET
            while j < stop and is_word[text[j]]:
                value = (value ^ np.uint64(text[j])) * FNV_PRIME
                j += 1
            word = _find(text, i, j, value, chars, offsets, slots)
            ids[n] = oov if word == -1 else word + first_id
            n += 1
            i = j
        lengths[document] = n - before
    return n


class WordIndex:
    """The vocabulary as a compiled hash table: word ``keys[i]`` has id ``first_id + i``.

    Keys that are not strings (gensim allows any hashable) are never matched.
    """

    def __init__(self, keys, first_id=2):
        words = [key if isinstance(key, str) else "" for key in keys]
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        self.chars = code_points("".join(words))
        self.offsets = np.concatenate([[0], np.cumsum(lengths)])
        n_slots = 1 << max(4, (2 * len(words)).bit_length())  # a load factor under 1/2
        self.slots = _build_slots(self.chars, self.offsets, n_slots)
        self.first_id = first_id

    def tokenize_and_encode(self, texts):
        """``encode(list(map(default_tokenize, texts)), vocabulary)``, compiled.

        Parameters
        ----------
        texts : list of str

        Returns
        -------
        ids : ndarray of int32, shape (n_tokens,)
        lengths : ndarray of int64, shape (n_documents,)
        """
        is_word = word_characters()
        lowered = list(map(str.lower, texts))
        sizes = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
        ends = np.cumsum(sizes + 1)
        all_ids, lengths = [], np.empty(len(texts), dtype=np.int64)
        start = 0
        while start < len(texts):
            offset = ends[start] - sizes[start] - 1
            stop = max(start + 1, int(np.searchsorted(ends, offset + MAX_BATCH_CHARACTERS)))
            # One space between documents, so that no run of word characters spans two.
            text = code_points(" ".join(lowered[start:stop]))
            doc_stops = ends[start:stop] - 1 - offset
            doc_starts = doc_stops - sizes[start:stop]
            ids = np.empty(len(text) // 2 + 1, dtype=np.int32)
            n = _tokenize_lookup(
                text,
                doc_starts,
                doc_stops,
                is_word,
                self.chars,
                self.offsets,
                self.slots,
                self.first_id,
                OOV,
                ids,
                lengths[start:stop],
            )
            all_ids.append(ids[:n])
            start = stop
        return np.concatenate(all_ids) if all_ids else np.zeros(0, np.int32), lengths
