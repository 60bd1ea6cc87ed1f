extension Architecture {
    /// The CIFAR-10 speed-run network of Keller Jordan's airbench94 (2024): a 2×2 whitening
    /// convolution stem of width 24 (fixed filters from the training images' patch covariance,
    /// only its bias learns) with GELU, then three groups of conv3×3 → max-pool 2 → BatchNorm →
    /// GELU → conv3×3 → BatchNorm → GELU at widths 64/256/256 (convolutions start as identity
    /// filters), a global max pool and a linear head without bias whose logits are scaled by 1/9.
    /// BatchNorm scales are frozen at 1, as there; 236 MFLOP forward per 32×32 image (≈708 MFLOP
    /// per training image). Train it with `TrainingOptions.airbench94(epochs:)`.
    public static func airbench94(widths: [Int] = [64, 256, 256], stemWidth: Int = 24) -> Architecture {
        var layers: [LayerSpec] = [.conv(stemWidth, kernel: 2, padding: 0, bias: true, whiten: true, name: "stem"), .gelu]
        for (index, width) in widths.enumerated() {
            let group = "block\(index + 1)"
            layers += [
                .conv(width, initialization: "identity", name: "\(group).conv1"), .maxPool(2),
                .batchNorm(momentum: 0.4, epsilon: 1e-12, trainableScale: false, name: "\(group).norm1"),
                .gelu,
                .conv(width, initialization: "identity", name: "\(group).conv2"),
                .batchNorm(momentum: 0.4, epsilon: 1e-12, trainableScale: false, name: "\(group).norm2"),
                .gelu,
            ]
        }
        layers += [.globalMaxPool, .flatten, .linear(bias: false, name: "head"), .scale(1.0 / 9)]
        return Architecture(name: "airbench94", layers: layers)
    }

    /// ResNet-20 for CIFAR (He et al. 2016, §4.2): a 3×3 stem of 16 channels, three stages of three
    /// basic blocks (two conv3×3-BN, ReLU between and after the addition) at 16/32/64 channels,
    /// the first block of stages 2 and 3 with stride 2 and a 1×1 convolution + BN projection
    /// shortcut ("option B"), global average pooling and a linear classifier. ≈ 41 M multiply-adds
    /// per 32×32 image.
    public static func resnet20(blocksPerStage: Int = 3, widths: [Int] = [16, 32, 64]) -> Architecture {
        var layers: [LayerSpec] = [.conv(widths[0], name: "stem"), .batchNorm(name: "stem.norm"), .relu]
        var previous = widths[0]
        for (stage, width) in widths.enumerated() {
            for block in 0..<blocksPerStage {
                let name = "stage\(stage + 1).block\(block + 1)"
                let stride = stage > 0 && block == 0 ? 2 : 1
                let body: [LayerSpec] = [
                    .conv(width, stride: stride, name: "\(name).conv1"), .batchNorm(name: "\(name).norm1"), .relu,
                    .conv(width, name: "\(name).conv2"), .batchNorm(name: "\(name).norm2"),
                ]
                let shortcut: [LayerSpec] = stride != 1 || width != previous
                    ? [.conv(width, kernel: 1, stride: stride, padding: 0, name: "\(name).projection"),
                       .batchNorm(name: "\(name).projection.norm")]
                    : []
                layers += [.residual(body, shortcut: shortcut, name: name), .relu]
                previous = width
            }
        }
        layers += [.globalAveragePool, .flatten, .linear(name: "head")]
        return Architecture(name: "resnet20", layers: layers)
    }

    /// A small network for tests and quick demos: two conv-BN-ReLU-pool stages (16, 32 channels),
    /// global average pooling, linear.
    public static func tiny(widths: [Int] = [16, 32]) -> Architecture {
        var layers: [LayerSpec] = []
        for (index, width) in widths.enumerated() {
            layers += [.conv(width, name: "conv\(index + 1)"), .batchNorm(name: "norm\(index + 1)"), .relu, .maxPool(2)]
        }
        layers += [.globalAveragePool, .flatten, .linear(name: "head")]
        return Architecture(name: "tiny", layers: layers)
    }
}
