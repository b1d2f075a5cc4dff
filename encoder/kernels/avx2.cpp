// placeholder until the AVX2 kernel lands
#include "../kernel.h"
namespace calib64::detail {
extern const kernel_ops avx2_kernel{kernel_id::avx2, "avx2", [] () noexcept { return false; }, nullptr, nullptr, nullptr};
}
