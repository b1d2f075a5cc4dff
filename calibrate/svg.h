// Internal: a small SVG line-chart writer for the calibration report (throughput
// against a logarithmic size axis, a shaded band per series, vertical markers).
// No dependencies; the output is standalone, well-formed SVG 1.1.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace calib64::calib {

struct svg_series {
    std::string label;
    std::string color;        // any SVG colour, e.g. "#1f77b4"
    std::vector<double> x;    // > 0 (log axis); ascending
    std::vector<double> y;    // the median line
    std::vector<double> y_low;   // the band (same length as x), or empty for no band
    std::vector<double> y_high;
    bool dashed = false;
};

struct svg_marker {
    double x = 0;
    std::string label;
    std::string color = "#555555";
};

struct svg_chart {
    std::string title;
    std::string x_label;
    std::string y_label;
    std::vector<svg_series> series;
    std::vector<svg_marker> markers;
    int width = 960;
    int height = 540;
};

[[nodiscard]] std::string xml_escape(std::string_view text);
[[nodiscard]] std::string render_svg(const svg_chart& chart);

}  // namespace calib64::calib
