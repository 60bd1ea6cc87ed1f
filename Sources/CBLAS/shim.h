#pragma once
#include <cblas.h>

// LAPACK's symmetric eigen-decomposition (Fortran interface; OpenBLAS bundles LAPACK, and
// Debian's cblas.h does not declare it).
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
            double *work, const int *lwork, int *info);
