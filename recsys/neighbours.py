"""Shoppers x products matrices, and item-to-item neighbours from them ("customers who bought this also bought").

Two products are neighbours when the same shoppers bought (or viewed) both: the similarity of products i and j is
the cosine of their shopper columns, co(i, j) / sqrt(n(i) * n(j)), where co counts the shoppers who have both and
n the shoppers who have each. Only the `per_product` best neighbours of each product are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recsys.interactions import Interaction


@dataclass
class Vocabulary:
    """Row and column numbers of shoppers and products."""

    users: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    user_row: dict[str, int] = field(default_factory=dict)
    product_column: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, interactions: Iterable[Interaction], products: Iterable[str] = ()) -> Vocabulary:
        vocabulary = cls()
        for product_id in products:
            vocabulary._product(product_id)
        for interaction in interactions:
            vocabulary._product(interaction.product_id)
            if interaction.user_id not in vocabulary.user_row:
                vocabulary.user_row[interaction.user_id] = len(vocabulary.users)
                vocabulary.users.append(interaction.user_id)
        return vocabulary

    def _product(self, product_id: str) -> None:
        if product_id not in self.product_column:
            self.product_column[product_id] = len(self.products)
            self.products.append(product_id)

    def matrix(self, interactions: Iterable[Interaction], weights: Mapping[str, float]) -> sp.csr_matrix:
        """Shoppers x products, each cell the sum of the weights of the pair's interactions (kinds not in
        `weights` are left out)."""
        rows, columns, values = [], [], []
        for interaction in interactions:
            weight = weights.get(interaction.kind)
            if weight:
                rows.append(self.user_row[interaction.user_id])
                columns.append(self.product_column[interaction.product_id])
                values.append(weight)
        shape = (len(self.users), len(self.products))
        matrix = sp.csr_matrix((np.asarray(values, dtype=np.float32), (rows, columns)), shape=shape)
        matrix.sum_duplicates()
        return matrix


def similarity(matrix: sp.csr_matrix, per_product: int) -> sp.csr_matrix:
    """Products x products cosine similarity of the shoppers who have each (binary), the diagonal left out and
    only each row's `per_product` largest kept."""
    has = (matrix > 0).astype(np.float32).tocsc()
    together = (has.T @ has).tocsr()
    together.setdiag(0)
    together.eliminate_zeros()
    counts = np.asarray(has.sum(axis=0)).ravel()
    norm = np.sqrt(np.maximum(counts, 1))
    together = sp.diags(1 / norm) @ together @ sp.diags(1 / norm)
    return top_per_row(together.tocsr(), per_product)


def top_per_row(matrix: sp.csr_matrix, n: int) -> sp.csr_matrix:
    rows, columns, values = [], [], []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if start == end:
            continue
        data, indices = matrix.data[start:end], matrix.indices[start:end]
        best = np.lexsort((indices, -data))[:n]  # highest first; ties by column, so runs agree
        rows.extend([row] * len(best))
        columns.extend(indices[best].tolist())
        values.extend(data[best].tolist())
    return sp.csr_matrix((np.asarray(values, dtype=np.float32), (rows, columns)), shape=matrix.shape)


def neighbour_lists(similar: sp.csr_matrix, products: list[str]) -> dict[str, list[str]]:
    """product_id -> its neighbours, most similar first (products without any are absent)."""
    lists: dict[str, list[str]] = {}
    for row in range(similar.shape[0]):
        start, end = similar.indptr[row], similar.indptr[row + 1]
        if start == end:
            continue
        data, indices = similar.data[start:end], similar.indices[start:end]
        order = np.lexsort((indices, -data))
        lists[products[row]] = [products[column] for column in indices[order]]
    return lists
