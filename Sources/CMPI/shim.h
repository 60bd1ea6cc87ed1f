// Open MPI for Swift. MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are macros that take the address
// of library globals, which Swift cannot import; these inline functions hand them over as values.
#ifndef PERCEPT_CMPI_SHIM_H
#define PERCEPT_CMPI_SHIM_H

#include <mpi.h>

static inline MPI_Comm percept_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype percept_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype percept_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype percept_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype percept_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op percept_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op percept_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op percept_mpi_min(void) { return MPI_MIN; }
static inline MPI_Errhandler percept_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *percept_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Request percept_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *percept_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int percept_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int percept_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }

#endif
