// LAPACK through the same library as BLAS: OpenBLAS on Linux, Accelerate on Apple platforms.
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

public enum LAPACK {
    /// Eigenvalues (ascending) and unit eigenvectors of the symmetric n×n matrix `a` (row-major;
    /// only symmetric input makes sense). `vectors[j * n ..< (j + 1) * n]` is the eigenvector of
    /// `values[j]`. LAPACK `dsyev`.
    public static func symmetricEigen(_ a: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        guard n >= 1, a.count == n * n else {
            throw PerceptError.invalidArgument("symmetricEigen needs an n×n matrix, got \(a.count) values for n = \(n)")
        }
        var matrix = a  // symmetric, so row-major reads the same as LAPACK's column-major
        var values = [Double](repeating: 0, count: n)
        var info: Int32 = 0
        #if canImport(Accelerate)
        typealias LInt = __CLPK_integer
        #else
        typealias LInt = Int32
        #endif
        var size = LInt(n), lda = LInt(n), lwork = LInt(max(1, 3 * n - 1)), status = LInt(0)
        var work = [Double](repeating: 0, count: Int(lwork))
        var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "U"))
        dsyev_(&jobz, &uplo, &size, &matrix, &lda, &values, &work, &lwork, &status)
        info = Int32(status)
        guard info == 0 else {
            throw PerceptError.invalidData("the eigen-decomposition failed (LAPACK dsyev info \(info))")
        }
        // Column j of the column-major result is eigenvector j: row j when read row-major.
        return (values, matrix)
    }
}
