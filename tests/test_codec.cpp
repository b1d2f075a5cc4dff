#include <calib64/calib64.h>
#include <doctest/doctest.h>
#include <random>
using namespace calib64;
TEST_CASE("smoke: every kernel agrees with scalar") {
  std::mt19937_64 rng(1);
  for (kernel_id k : available_kernels()) {
    for (size_t n = 0; n < 3000; ++n) {
      std::string in(n, '\0'); for (auto& c : in) c = char(rng());
      for (auto a : {alphabet::standard, alphabet::url}) for (bool pad : {true, false}) {
        auto ref = encode(in, {a, pad, kernel_id::scalar});
        auto got = encode(in, {a, pad, k});
        REQUIRE(ref == got);
        std::string back;
        auto r = decode(got, back, {a, pad ? padding::required : padding::forbidden, ignore::none, k});
        REQUIRE(r.ok()); REQUIRE(back == in);
        std::string wrapped; for (size_t i = 0; i < got.size(); i += 76) wrapped += got.substr(i, 76) + "\n";
        std::string back2;
        auto r2 = decode(wrapped, back2, {a, padding::optional, ignore::whitespace, k});
        REQUIRE(r2.ok()); REQUIRE(back2 == in);
      }
    }
  }
}
