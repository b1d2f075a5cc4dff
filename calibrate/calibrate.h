// The calibration driver: `calib64 calibrate` and `calib64 report compare`.
//
// run_calibrate measures this host (see docs/calibration.md for the method) and
// writes results/<host-id>/ with profile.json, report.md, the raw Google Benchmark
// JSON and SVG charts. run_report_compare prints two profiles side by side as
// markdown. Both take the arguments after the subcommand name (argv[0] is the
// subcommand or program name and is ignored) and return a process exit status.
#pragma once

namespace calib64 {

// Exit status: 0 done, 1 measurement or write failure, 2 bad usage, 130 interrupted.
int run_calibrate(int argc, char** argv);
// Exit status: 0 done, 1 a profile could not be read, 2 bad usage.
int run_report_compare(int argc, char** argv);
// `calib64 report SUB ...`: dispatches SUB ("compare") to the function above.
int run_report(int argc, char** argv);

}  // namespace calib64
