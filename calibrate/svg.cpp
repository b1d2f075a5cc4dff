#include "svg.h"

#include "common/sizes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace calib64::calib {

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                // Control characters are not allowed in XML 1.0 text.
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
        }
    }
    return out;
}

namespace {

std::string num(double v) { return fmt::format("{:.1f}", v); }

// A "nice" tick step (1, 2, 5 x 10^k) giving about `target` ticks over span.
double nice_step(double span, int target) {
    if (span <= 0) return 1;
    const double raw = span / target;
    const double mag = std::pow(10, std::floor(std::log10(raw)));
    const double r = raw / mag;
    const double nice = r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10;
    return nice * mag;
}

}  // namespace

std::string render_svg(const svg_chart& chart) {
    const double w = chart.width, h = chart.height;
    const double left = 80, right = 190, top = 44, bottom = 64;
    const double plot_w = w - left - right, plot_h = h - top - bottom;

    double x_min = std::numeric_limits<double>::max(), x_max = 0, y_max = 0;
    for (const auto& s : chart.series)
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            if (s.x[i] <= 0) continue;
            x_min = std::min(x_min, s.x[i]);
            x_max = std::max(x_max, s.x[i]);
            y_max = std::max(y_max, i < s.y.size() ? s.y[i] : 0);
            if (i < s.y_high.size()) y_max = std::max(y_max, s.y_high[i]);
        }
    for (const auto& m : chart.markers)
        if (m.x > 0) {
            x_min = std::min(x_min, m.x);
            x_max = std::max(x_max, m.x);
        }
    if (x_max <= 0) {  // nothing to draw: still a valid, labelled, empty chart
        x_min = 1024;
        x_max = 1 << 20;
    }
    if (x_max <= x_min) x_max = x_min * 2;
    if (y_max <= 0) y_max = 1;
    const double lx0 = std::log2(x_min), lx1 = std::log2(x_max);
    const double y_step = nice_step(y_max * 1.05, 6);
    const double y_top = std::ceil(y_max * 1.05 / y_step) * y_step;

    auto px = [&](double x) { return left + (std::log2(x) - lx0) / (lx1 - lx0) * plot_w; };
    auto py = [&](double y) { return top + plot_h - std::clamp(y / y_top, 0.0, 1.0) * plot_h; };

    std::string o;
    o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    o += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + num(w) + "\" height=\"" + num(h) +
         "\" viewBox=\"0 0 " + num(w) + " " + num(h) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    o += "<rect x=\"0\" y=\"0\" width=\"" + num(w) + "\" height=\"" + num(h) + "\" fill=\"white\"/>\n";
    o += "<text x=\"" + num(w / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">" + xml_escape(chart.title) +
         "</text>\n";

    // Grid and ticks: y linear, x at powers of two (every other one when crowded).
    o += "<g stroke=\"#dddddd\" stroke-width=\"1\">\n";
    for (double y = 0; y <= y_top + y_step / 2; y += y_step)
        o += "<line x1=\"" + num(left) + "\" y1=\"" + num(py(y)) + "\" x2=\"" + num(left + plot_w) + "\" y2=\"" +
             num(py(y)) + "\"/>\n";
    const int first_pow = static_cast<int>(std::ceil(lx0)), last_pow = static_cast<int>(std::floor(lx1));
    const int pow_step = (last_pow - first_pow) > 14 ? 2 : 1;
    for (int p = first_pow; p <= last_pow; p += pow_step)
        o += "<line x1=\"" + num(px(std::ldexp(1.0, p))) + "\" y1=\"" + num(top) + "\" x2=\"" +
             num(px(std::ldexp(1.0, p))) + "\" y2=\"" + num(top + plot_h) + "\"/>\n";
    o += "</g>\n<g fill=\"#333333\">\n";
    for (double y = 0; y <= y_top + y_step / 2; y += y_step) {
        o += "<text x=\"" + num(left - 6) + "\" y=\"" + num(py(y) + 4) + "\" text-anchor=\"end\">" + fmt::format("{:g}", y) +
             "</text>\n";
    }
    for (int p = first_pow; p <= last_pow; p += pow_step)
        o += "<text x=\"" + num(px(std::ldexp(1.0, p))) + "\" y=\"" + num(top + plot_h + 16) +
             "\" text-anchor=\"middle\">" + xml_escape(common::format_size(std::uint64_t{1} << std::clamp(p, 0, 62))) + "</text>\n";
    o += "<text x=\"" + num(left + plot_w / 2) + "\" y=\"" + num(h - 16) + "\" text-anchor=\"middle\">" +
         xml_escape(chart.x_label) + "</text>\n";
    o += "<text transform=\"translate(18," + num(top + plot_h / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         xml_escape(chart.y_label) + "</text>\n";
    o += "</g>\n";
    o += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(plot_w) + "\" height=\"" + num(plot_h) +
         "\" fill=\"none\" stroke=\"#888888\"/>\n";

    // Bands first, so every median line stays visible on top of them.
    for (const auto& s : chart.series) {
        if (s.y_low.size() != s.x.size() || s.y_high.size() != s.x.size() || s.x.empty()) continue;
        std::string pts;
        for (std::size_t i = 0; i < s.x.size(); ++i) pts += num(px(s.x[i])) + "," + num(py(s.y_high[i])) + " ";
        for (std::size_t i = s.x.size(); i-- > 0;) pts += num(px(s.x[i])) + "," + num(py(s.y_low[i])) + " ";
        o += "<polygon points=\"" + pts + "\" fill=\"" + xml_escape(s.color) + "\" fill-opacity=\"0.18\" stroke=\"none\"/>\n";
    }
    for (const auto& s : chart.series) {
        if (s.x.empty()) continue;
        std::string pts;
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) pts += num(px(s.x[i])) + "," + num(py(s.y[i])) + " ";
        o += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + xml_escape(s.color) + "\" stroke-width=\"2\"" +
             (s.dashed ? " stroke-dasharray=\"6,4\"" : "") + "/>\n";
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
            o += "<circle cx=\"" + num(px(s.x[i])) + "\" cy=\"" + num(py(s.y[i])) + "\" r=\"2\" fill=\"" +
                 xml_escape(s.color) + "\"/>\n";
    }
    // Vertical markers (cache sizes, switch points), labels staggered to stay legible.
    int row = 0;
    for (const auto& m : chart.markers) {
        if (m.x <= 0) continue;
        const double x = px(m.x);
        o += "<line x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" + num(top + plot_h) +
             "\" stroke=\"" + xml_escape(m.color) + "\" stroke-width=\"1.5\" stroke-dasharray=\"3,3\"/>\n";
        o += "<text x=\"" + num(x + 3) + "\" y=\"" + num(top + 14 + 13 * (row % 4)) + "\" fill=\"" + xml_escape(m.color) +
             "\" font-size=\"11\">" + xml_escape(m.label) + "</text>\n";
        ++row;
    }
    // Legend.
    double ly = top + 8;
    for (const auto& s : chart.series) {
        const double lx = left + plot_w + 14;
        o += "<line x1=\"" + num(lx) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(lx + 24) + "\" y2=\"" + num(ly) +
             "\" stroke=\"" + xml_escape(s.color) + "\" stroke-width=\"2\"" + (s.dashed ? " stroke-dasharray=\"6,4\"" : "") +
             "/>\n";
        o += "<text x=\"" + num(lx + 30) + "\" y=\"" + num(ly + 4) + "\">" + xml_escape(s.label) + "</text>\n";
        ly += 18;
    }
    o += "</svg>\n";
    return o;
}

}  // namespace calib64::calib
