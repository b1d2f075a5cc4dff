// Sizes as people write and read them: the one parser and the one formatter.
#include <doctest/doctest.h>

#include <string>

#include "common/sizes.h"

using namespace calib64::common;

TEST_CASE("sizes parse in bytes, decimal and binary units") {
    CHECK(parse_size("4096") == 4096u);
    CHECK(parse_size("1MiB") == 1u << 20);
    CHECK(parse_size("1 mib") == 1u << 20);
    CHECK(parse_size("20MB") == 20000000u);
    CHECK(parse_size("64kB") == 64000u);
    CHECK(parse_size("64KiB") == 65536u);
    CHECK(parse_size("1.5GiB") == 3u << 29);
    CHECK(parse_size(" 512 B ") == 512u);
    CHECK(parse_size("1TiB") == 1ull << 40);
    for (const char* bad : {"", "MiB", "12 parsecs", "1k", "-5", "0x100", "2TiB", "1e3", "1..5MiB"}) {
        CAPTURE(bad);
        std::string why;
        CHECK_FALSE(parse_size(bad, &why).has_value());
        CHECK_FALSE(why.empty());
    }
}

TEST_CASE("sizes are shown in binary units when exact, decimal MB when exact, else one decimal") {
    CHECK(format_size(0) == "0 B");
    CHECK(format_size(1023) == "1023 B");
    CHECK(format_size(4095) == "4.0 KiB");
    CHECK(format_size(4096) == "4 KiB");
    CHECK(format_size(32 << 20) == "32 MiB");
    CHECK(format_size(5'000'000) == "5 MB");
    CHECK(format_size(100'000'000) == "100 MB");
    CHECK(format_size(3'000'000'000) == "3 GB");
    CHECK(format_size(1536 + 1) == "1.5 KiB");
    CHECK(format_size((1 << 20) + (1 << 19) + 7) == "1.5 MiB");
}

TEST_CASE("the exact form adds the byte count only where the words round") {
    CHECK(format_size_exact(1537) == "1.5 KiB (1537 B)");
    CHECK(format_size_exact(32 << 20) == "32 MiB");
    CHECK(format_size_exact(5'000'000) == "5 MB");
}

TEST_CASE("every formatted size parses back to itself when exact") {
    for (const std::uint64_t bytes : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{4096}, std::uint64_t{3} << 20,
                                      std::uint64_t{20'000'000}, std::uint64_t{1} << 40}) {
        CAPTURE(bytes);
        CHECK(parse_size(format_size(bytes)) == bytes);
    }
}
