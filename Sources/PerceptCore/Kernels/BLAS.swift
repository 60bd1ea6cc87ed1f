// Thin wrappers over BLAS: OpenBLAS on Linux (through the CBLAS system-library target),
// Accelerate on Apple platforms. Everything is row-major Float32.
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

import Foundation

public enum BLAS {
    /// The threads one BLAS call may use (OpenBLAS; Accelerate decides for itself and reports 1).
    /// Callers that already run one BLAS call per core set it to 1 around their loop, so the
    /// two levels of threading do not fight over the same cores.
    ///
    /// Setting it changes the count used outside any `withThreadCount`.
    public static var threadCount: Int {
        get {
            #if canImport(Accelerate)
            return 1
            #else
            return Int(openblas_get_num_threads())
            #endif
        }
        set { requests.setBase(max(1, newValue)) }
    }

    /// Runs `body` with BLAS limited to `threads` threads, then restores the count.
    ///
    /// OpenBLAS has one count for the whole process, and several threads may ask at once (a server
    /// predicting while it trains, workers that each run their own GEMMs): while requests overlap,
    /// the count is the smallest of them — the cores are never oversubscribed — and when the last
    /// one ends it returns to the count outside any request. (Saving and restoring "the previous
    /// count" per caller would, interleaved, leave whichever count was restored last.)
    public static func withThreadCount<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        let threads = max(1, threads)
        requests.begin(threads)
        defer { requests.end(threads) }
        return try body()
    }

    /// `withThreadCount(1)` for a product of fewer than `smallProduct` multiply-adds, `body` as it is
    /// otherwise: OpenBLAS would share a small GEMM out, and its workers would then spin waiting for
    /// more work, taking a core from whatever runs next for far longer than the product took.
    public static func withThreadCount<R>(forMultiplyAdds count: Int, _ body: () throws -> R) rethrows -> R {
        count < smallProduct ? try withThreadCount(1, body) : try body()
    }

    /// About a millisecond of one core's GEMM.
    public static let smallProduct = 1 << 24

    private static let requests = ThreadCountRequests()

    /// The thread counts `withThreadCount` callers are running with, and the count applied.
    private final class ThreadCountRequests: @unchecked Sendable {
        private let lock = NSLock()
        // Guarded by `lock`.
        private var active: [Int: Int] = [:]
        private var base: Int?
        private var applied: Int?

        func begin(_ threads: Int) {
            lock.withLock {
                if base == nil { base = BLAS.threadCount }
                active[threads, default: 0] += 1
                apply()
            }
        }

        func end(_ threads: Int) {
            lock.withLock {
                active[threads, default: 1] -= 1
                if active[threads] == 0 { active[threads] = nil }
                apply()
            }
        }

        func setBase(_ threads: Int) {
            lock.withLock {
                base = threads
                apply()
            }
        }

        private func apply() {
            guard let wanted = active.keys.min() ?? base, wanted != applied else { return }
            applied = wanted
            #if !canImport(Accelerate)
            openblas_set_num_threads(Int32(wanted))
            #endif
        }
    }

    /// C = alpha · op(A) · op(B) + beta · C, row-major.
    ///
    /// - A is M×K (or K×M when `transposeA`), B is K×N (or N×K when `transposeB`), C is M×N.
    /// - `lda`, `ldb`, `ldc` default to the packed row lengths.
    @inlinable
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative dimension")
        guard m > 0, n > 0 else { return }
        let lda = lda ?? (transposeA ? m : k)
        let ldb = ldb ?? (transposeB ? k : n)
        let ldc = ldc ?? n
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y = alpha · op(A) · x + beta · y, row-major; A is M×N.
    @inlinable
    public static func gemv(
        transpose: Bool = false, m: Int, n: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, x: UnsafePointer<Float>,
        beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), alpha, a, Int32(n), x, 1, beta, y, 1)
    }
}
