"""The glossary: every term the app teaches, in English and in the Japanese that textbooks and
the JDLA E資格 syllabus use, with a one-line definition and the page where it can be seen live.

Term names are shown in both languages whatever the reader's language, so they are data here;
the definitions are messages (``N_``) translated through the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_


@dataclass(frozen=True)
class Term:
    key: str
    en: str  # the English term
    ja: str  # the Japanese term (alternatives in parentheses)
    definition: str  # one line, English source text of a catalog message
    page: str  # the app page where the term is seen live (url path)
    query: str = ""  # e.g. "topic=growth_rate": opens the matching theory panel

    @property
    def link(self) -> str:
        """A relative link (works under any base URL path)."""
        return f"{self.page}?{self.query}" if self.query else self.page


TERMS: tuple[Term, ...] = (
    Term("dense_block", "dense block", "デンスブロック（密結合ブロック）",
         N_("A run of layers at one spatial size in which every layer receives the concatenated outputs of "
            "all earlier layers."), "densenet"),
    Term("growth_rate", "growth rate k", "成長率 k",
         N_("The number of channels each dense layer adds to the concatenation."), "learn", "topic=growth_rate"),
    Term("concatenation", "concatenation", "連結（チャネル方向の結合）",
         N_("Stacking feature maps of the same height and width along the channel axis; the channel counts "
            "add up."), "learn", "topic=concat_vs_add"),
    Term("residual", "residual connection (skip connection)", "残差接続（スキップ接続、ショートカット結合）",
         N_("Adding a block's input to its output, y = F(x) + x, as ResNet does; the channel count does not "
            "change."), "learn", "topic=concat_vs_add"),
    Term("bottleneck", "bottleneck layer", "ボトルネック層",
         N_("A 1×1 convolution that narrows the input to 4k channels before the 3×3 convolution "
            "(DenseNet-B)."), "learn", "topic=bottleneck"),
    Term("transition", "transition layer", "トランジション層（遷移層）",
         N_("The layer between two dense blocks: BN, ReLU, 1×1 convolution and 2×2 average pooling, which "
            "halves the height and width."), "densenet"),
    Term("compression", "compression factor θ", "圧縮率 θ",
         N_("The fraction of channels a transition layer keeps: m channels become floor(θ·m)."),
         "learn", "topic=compression"),
    Term("densenet_bc", "DenseNet-BC", "DenseNet-BC",
         N_("DenseNet with both bottleneck layers (B) and compression θ < 1 (C)."), "learn", "topic=variants"),
    Term("conv1x1", "1×1 convolution", "1×1 畳み込み",
         N_("A convolution with a 1×1 kernel: it mixes channels at each pixel without looking at neighbours."),
         "learn", "topic=inception_module"),
    Term("dimension_reduction", "dimensionality reduction", "次元削減",
         N_("Reducing the number of channels, here with a 1×1 convolution, so that the next convolution costs "
            "less."), "inception"),
    Term("inception_module", "Inception module", "インセプションモジュール",
         N_("Parallel 1×1, 3×3, 5×5 and pooling branches whose outputs are concatenated."), "inception"),
    Term("gap", "global average pooling", "グローバル平均プーリング",
         N_("Averaging each channel over its whole feature map, so C×H×W becomes a vector of C numbers."),
         "densenet"),
    Term("aux_classifier", "auxiliary classifier", "補助分類器",
         N_("A small classifier branching off the middle of the network whose loss is added during training "
            "only."), "learn", "topic=auxiliary"),
    Term("factorised", "factorised convolution", "畳み込みの分解（因数分解）",
         N_("Replacing a large kernel with smaller ones: a 5×5 by two 3×3, or an n×n by a 1×n and an n×1."),
         "learn", "topic=factorised"),
    Term("cardinality", "cardinality", "カーディナリティ",
         N_("In ResNeXt, the number of parallel paths in a block, implemented as the groups of a grouped "
            "convolution."), "learn", "topic=resnext"),
    Term("grouped_conv", "grouped convolution", "グループ畳み込み",
         N_("A convolution whose channels are split into groups that are convolved separately."),
         "learn", "topic=resnext"),
    Term("depthwise", "depthwise convolution", "デプスワイズ畳み込み",
         N_("A convolution that filters each input channel on its own (one group per channel)."),
         "learn", "topic=depthwise"),
    Term("pointwise", "pointwise convolution", "ポイントワイズ畳み込み",
         N_("A 1×1 convolution that combines the channels after a depthwise convolution."),
         "learn", "topic=depthwise"),
    Term("depthwise_separable", "depthwise separable convolution", "深さ方向分離可能畳み込み",
         N_("A depthwise convolution followed by a pointwise convolution; it replaces a standard convolution "
            "with far fewer parameters."), "learn", "topic=depthwise"),
    Term("receptive_field", "receptive field", "受容野",
         N_("The region of the input that one output value depends on."), "practice"),
    Term("batch_norm", "batch normalization", "バッチ正規化",
         N_("Normalising each channel with statistics over the mini-batch and the spatial positions (N, H, W)."),
         "learn", "topic=normalisation"),
    Term("layer_norm", "layer normalization", "レイヤー正規化",
         N_("Normalising each sample with statistics over all its channels and positions (C, H, W)."),
         "learn", "topic=normalisation"),
    Term("instance_norm", "instance normalization", "インスタンス正規化",
         N_("Normalising each channel of each sample on its own, over its positions (H, W)."),
         "learn", "topic=normalisation"),
    Term("group_norm", "group normalization", "グループ正規化",
         N_("Normalising each group of channels of each sample, over the group's channels and positions."),
         "learn", "topic=normalisation"),
    Term("feature_map", "feature map", "特徴マップ",
         N_("The output of a layer: C channels, each an H×W grid of values."), "densenet"),
    Term("params", "parameters", "パラメータ数",
         N_("The learned weights of a model, counted as the sum of the sizes of its weight tensors."),
         "compare"),
    Term("macs", "MACs (multiply-accumulates)", "積和演算数（MACs）",
         N_("Multiply-accumulate operations of the convolutions and linear layers for one image; "
            "FLOPs = 2 × MACs."), "compare"),
    Term("stride_padding", "stride and padding", "ストライドとパディング",
         N_("How far a kernel moves between outputs, and how many pixels are added around the input."),
         "practice"),
)

TERM_KEYS = {term.key: term for term in TERMS}
