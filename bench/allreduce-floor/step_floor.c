// The fastest a data-parallel step can be on this machine with this MPI, whatever the training
// code: each rank does a fixed amount of arithmetic (calibrated to `compute_us` microseconds on
// one idle core; default 735, half of the dp-epoch workload's 1-process step) and then
// all-reduces a Float gradient of `count` elements (default 203,530: the 784-256-10 MLP's
// parameters) in place. Three ways:
//   compute-only  the arithmetic alone on every rank, no communication (the ideal);
//   blocking      arithmetic, then one MPI_Allreduce (what the dp-epoch step does for this MLP,
//                 whose first-layer weight gradient, 99 % of the bytes, is finished last);
//   chunked       the last `tail` of the arithmetic split in `chunks` parts, each followed by an
//                 MPI_Iallreduce of its share of the gradient, progressed by MPI_Testall between
//                 slices of the arithmetic (the overlap a chunked weight-gradient GEMM would allow).
// Prints the mean step in microseconds for each; rank 0 prints.
//
//     mpicc -O2 step_floor.c -o step_floor
//     mpirun -np 2 --bind-to core ./step_floor [compute_us] [count] [chunks] [tail]
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static volatile double sink;

/// `iterations` slices of a dependent multiply-add chain of 1,000 steps; between slices, when
/// requests are pending, MPI_Testall moves them along (every 8th slice).
static void work(long iterations, int pending, MPI_Request *requests) {
    double x = 1.0;
    for (long i = 0; i < iterations; i++) {
        for (int j = 0; j < 1000; j++) x = x * 1.0000001 + 1e-9;
        if (pending && (i & 7) == 7) { int done; MPI_Testall(pending, requests, &done, MPI_STATUSES_IGNORE); }
    }
    sink += x;
}

static long calibrate(double microseconds) {
    long n = 100;
    for (;;) {
        double t = MPI_Wtime();
        work(n, 0, NULL);
        t = (MPI_Wtime() - t) * 1e6;
        if (t > 20000) return (long)(n * microseconds / t);
        n *= 2;
    }
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    double compute_us = argc > 1 ? atof(argv[1]) : 735;
    int count = argc > 2 ? atoi(argv[2]) : 203530;
    int chunks = argc > 3 ? atoi(argv[3]) : 8;
    double tail = argc > 4 ? atof(argv[4]) : 0.4;
    int steps = 2000;
    float *gradient = malloc((size_t)count * sizeof(float));
    for (int i = 0; i < count; i++) gradient[i] = 1e-3f;
    MPI_Request requests[256];
    long slices = calibrate(compute_us);
    double mean[3];
    for (int mode = 0; mode < 3; mode++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double start = MPI_Wtime();
        for (int s = 0; s < steps; s++) {
            if (mode < 2) {
                work(slices, 0, NULL);
                for (int i = 0; i < count; i += 16) gradient[i] += 1e-9f;   // a freshly written gradient
                if (mode == 1) MPI_Allreduce(MPI_IN_PLACE, gradient, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            } else {
                int pending = 0;
                work((long)(slices * (1 - tail)), 0, NULL);
                for (int c = 0; c < chunks; c++) {
                    long lo = (long)count * c / chunks, hi = (long)count * (c + 1) / chunks;
                    work((long)(slices * tail / chunks), pending, requests);
                    for (long i = lo; i < hi; i += 16) gradient[i] += 1e-9f;
                    MPI_Iallreduce(MPI_IN_PLACE, gradient + lo, (int)(hi - lo), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                                   &requests[pending++]);
                }
                MPI_Waitall(pending, requests, MPI_STATUSES_IGNORE);
            }
        }
        mean[mode] = (MPI_Wtime() - start) / steps * 1e6;
    }
    if (rank == 0)
        printf("{\"compute_us\": %.0f, \"count\": %d, \"chunks\": %d, \"tail\": %.2f, \"compute_only_us\": %.1f, "
               "\"blocking_us\": %.1f, \"chunked_us\": %.1f}\n",
               compute_us, count, chunks, tail, mean[0], mean[1], mean[2]);
    free(gradient);
    MPI_Finalize();
    return 0;
}
