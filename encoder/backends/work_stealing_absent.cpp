// work_stealing in a build without oneTBB: the lean calib64 tool (src/cli/meson.build),
// which starts without TBB's shared library. Every call runs its chunks on the calling
// thread, as the row's must_run_inline predicate says; the tool hands a run that asks
// for work_stealing to calib64-full, which has TBB, before it reads any input.
#include "parallel.h"

namespace calib64::detail {

bool arenas_gone() noexcept { return true; }

void run_in_arena(const chunk_job_spec& job, unsigned /*threads*/, bool /*pin_threads*/) noexcept {
    for (std::size_t i = 0; i < job.count; ++i) job.run(job.context, i);
}

}  // namespace calib64::detail
