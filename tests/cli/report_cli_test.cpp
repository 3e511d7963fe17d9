// `rlhf report` from the command line, on run directories in the real formats; and the page rendered by
// a real browser (headless Chromium, skipped where it is not installed).
#include <cstdint>
#include <cstdlib>

#include "cli_fixture.h"
#include "eval/report_run_fixture.h"

namespace rlhf::testing {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class ReportCli : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    SyntheticRun rounds;
    rounds.rounds = 3;
    rounds.total_batches = rounds.batches_done = 6;
    write_train_run(dir / "runs" / "offline", SyntheticRun{});
    write_train_run(dir / "runs" / "rounds", rounds);
  }
  std::string runs() const { return (dir / "runs" / "offline").string() + " " + (dir / "runs" / "rounds").string(); }
};

TEST_F(ReportCli, WritesOnePageForSeveralRuns) {
  const Result r = run("report " + runs() + " -o " + (dir / "out" / "report.html").string() + " --title Demo");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string page = slurp(dir / "out" / "report.html");
  EXPECT_THAT(page, HasSubstr("<h1>Demo</h1>"));
  EXPECT_EQ(count(page, "<svg "), 7u);
  EXPECT_THAT(page, HasSubstr("offline"));
  EXPECT_THAT(page, HasSubstr("rounds round 2"));  // the last round's reward model, in the legends
  EXPECT_THAT(r.err, HasSubstr("report of 2 run(s) written to"));
}

TEST_F(ReportCli, PartialRunIsReportedWithWhatIsMissing) {
  SyntheticRun partial;
  partial.batches_done = 1;
  partial.eval = false;
  write_train_run(dir / "runs" / "partial", partial);
  const Result r = run("report " + (dir / "runs" / "partial").string() + " -o -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("PPO: 1 of 4 batches done"));
  EXPECT_THAT(r.err, HasSubstr("eval/final.json"));
}

TEST_F(ReportCli, NotARunDirectoryIsAnError) {
  fs::create_directories(dir / "empty");
  expect_error(run("report " + runs() + " " + (dir / "empty").string() + " -o " + (dir / "r.html").string()),
               (dir / "empty").string() + ": not a run directory");
  EXPECT_FALSE(fs::exists(dir / "r.html"));
  expect_error(run("report " + runs() + " -o " + (dir / "r.html").string() + " --set samples=-1"), "samples");
}

// The pixel size of a PNG from its IHDR chunk (bytes 16-23, big-endian), 0 x 0 when it is no PNG.
std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& png) {
  if (png.size() < 24 || png.compare(1, 3, "PNG") != 0) return {0, 0};
  const auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

std::string chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (fs::exists(path)) return path;
  }
  return "";
}

class ReportInBrowser : public ReportCli {
 protected:
  // Runs headless Chromium on a local file with a profile of its own; returns its stdout.
  std::string browse(const fs::path& html, const std::string& what) {
    const std::string command = "timeout 60 " + chromium() + " --headless --no-sandbox --disable-gpu " +
                                "--user-data-dir=" + (dir / "profile").string() + " " + what + " file://" +
                                html.string() + " >" + (dir / "browser.out").string() + " 2>/dev/null";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return slurp(dir / "browser.out");
  }
};

TEST_F(ReportInBrowser, ChromiumDrawsThePage) {
  if (chromium().empty()) GTEST_SKIP() << "no Chromium installed";
  const fs::path page = dir / "report.html";
  ASSERT_EQ(run("report " + runs() + " -o " + page.string()).exit_code, 0);
  write_file_atomic(dir / "blank.html", "<!DOCTYPE html><html><body></body></html>");

  // The DOM as the browser parsed it: every chart is an SVG element with its lines.
  const std::string dom = browse(page, "--dump-dom");
  EXPECT_EQ(count(dom, "<svg "), 7u);
  EXPECT_GE(count(dom, "<polyline "), 10u);
  EXPECT_THAT(dom, HasSubstr("<figcaption>"));
  EXPECT_THAT(dom, Not(HasSubstr("<script")));  // the sample texts stayed text

  browse(dir / "blank.html", "--screenshot=" + (dir / "blank.png").string() + " --window-size=1280,2000");
  browse(page, "--screenshot=" + (dir / "report.png").string() + " --window-size=1280,2000");
  const std::string blank = slurp(dir / "blank.png"), shot = slurp(dir / "report.png");
  EXPECT_EQ(png_size(shot), std::make_pair(1280u, 2000u));
  // A blank page compresses to almost nothing; charts, tables and text do not.
  EXPECT_GT(shot.size(), 4 * blank.size()) << "blank " << blank.size() << " bytes, report " << shot.size();
}

}  // namespace
}  // namespace rlhf::testing
