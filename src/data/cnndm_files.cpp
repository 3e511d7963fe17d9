// Format cnndm: finding the story files (by URL list or directory) and turning each into an article.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "parallel_for.h"
#include "query_files.h"
#include "rlhf/data/cnndm.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "text_input.h"

namespace rlhf::data {

namespace {

namespace fs = std::filesystem;

struct StoryRef {
  fs::path file;
  std::string url;       // "" for a story found by listing a directory
  std::size_t line = 0;  // the URL's line in the list
};

std::string describe(const StoryRef& story) {
  return "line " + std::to_string(story.line) + ", " + story.url;
}

struct Article {
  std::string text, highlights;
};

// The article of one story file (Python's text-mode read, then the cleaning of cnndm.h), and its highlights.
Article read_article(const StoryRef& story) {
  const std::string raw = read_text_file(story.file);
  try {
    const std::string story_text = universal_newlines(raw);
    return {cnndm_article(story_text), cnndm_highlights(story_text)};
  } catch (const Error& e) {
    throw_file_error(story.file.string(),
                     std::string(e.what()) + (story.url.empty() ? "" : " (the story of " + describe(story) + ")"));
  }
}

QueryTexts read_articles(const std::vector<StoryRef>& stories, std::size_t missing) {
  QueryTexts out;
  out.texts.resize(stories.size());
  out.references.resize(stories.size());
  out.missing_stories = missing;
  parallel_for(stories.size(), [&](std::size_t i) {
    Article a = read_article(stories[i]);
    out.texts[i] = std::move(a.text);
    out.references[i] = std::move(a.highlights);
  });
  return out;
}

bool is_dir(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// Every regular *.story file directly in `dir`, in file-name order.
std::vector<StoryRef> story_directory(const fs::path& dir) {
  std::vector<StoryRef> stories;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    std::error_code entry_error;  // an unreadable entry is just not a story
    if (entry.path().extension() == ".story" && entry.is_regular_file(entry_error)) {
      stories.push_back({entry.path(), "", 0});
    }
  }
  if (ec) throw_file_error(dir.string(), "cannot list the directory: " + ec.message());
  if (stories.empty()) {
    const bool looks_like_stories_dir = is_dir(dir / "cnn" / "stories") || is_dir(dir / "dailymail" / "stories");
    throw_file_error(dir.string(),
                     looks_like_stories_dir
                         ? "holds no .story files but cnn/stories or dailymail/stories: set path to a URL list "
                           "(such as data/cnndm/url_lists/all_train.txt) and stories_dir to this directory, or "
                           "path to one of those subdirectories"
                         : "holds no .story files (format cnndm reads a URL list file, or a directory of .story "
                           "files)");
  }
  std::sort(stories.begin(), stories.end(), [](const StoryRef& a, const StoryRef& b) { return a.file < b.file; });
  return stories;
}

// The URLs of a list (Python: every line, stripped; blank lines, which the paper's code cannot take,
// are left out) with the story file each names under stories_dir.
std::vector<StoryRef> url_list_stories(const std::string& list, const fs::path& stories_dir) {
  std::vector<StoryRef> stories;
  for_each_line(universal_newlines(read_text_file(list)), [&](std::size_t line_number, std::string_view line) {
    const std::string_view url = python_strip(line);
    if (url.empty()) return;
    try {
      stories.push_back({stories_dir / cnndm_story_path(url), std::string(url), line_number});
    } catch (const Error& e) {
      throw_file_error(list, "line " + std::to_string(line_number) + ": " + e.what());
    }
  });
  return stories;
}

void check_stories_dir(const QueryOptions& options) {
  if (options.stories_dir.empty()) {
    throw Error("query dataset: format cnndm with a URL list (" + options.path +
                ") needs stories_dir, the directory holding cnn/stories and dailymail/stories (scripts/"
                "download_datasets.sh cnndm says where to get them)");
  }
  if (!is_dir(options.stories_dir)) {
    throw_file_error(options.stories_dir,
                     "not a directory (stories_dir: the directory holding cnn/stories and "
                     "dailymail/stories)");
  }
}

// Drops the stories whose file is absent, or throws naming the first, before any story is read.
std::size_t remove_missing(std::vector<StoryRef>& stories, const QueryOptions& options) {
  const std::size_t total = stories.size();
  std::vector<StoryRef> present;
  present.reserve(total);
  std::optional<StoryRef> first_missing;
  for (StoryRef& story : stories) {
    std::error_code ec;
    if (fs::is_regular_file(story.file, ec)) {
      present.push_back(std::move(story));
    } else if (!first_missing) {
      first_missing = story;
    }
  }
  const std::size_t missing = total - present.size();
  stories = std::move(present);
  if (missing == 0) return 0;
  const std::string counts = std::to_string(missing) + " of the " + std::to_string(total) + " stories of " +
                             options.path + " are missing, the first for " + describe(*first_missing) + " (expected " +
                             first_missing->file.string() + ")";
  if (!options.skip_missing_stories || stories.empty()) {
    throw_file_error(options.stories_dir,
                     counts +
                         "; unpack cnn_stories.tgz and dailymail_stories.tgz here so that it holds "
                         "cnn/stories and dailymail/stories (scripts/download_datasets.sh cnndm says where to "
                         "get them)" +
                         (stories.empty() ? "" : ", or set skip_missing_stories to leave them out"));
  }
  spdlog::warn("{}: {}; skipped (skip_missing_stories)", options.stories_dir, counts);
  return missing;
}

}  // namespace

QueryTexts read_cnndm_texts(const QueryOptions& options) {
  if (is_dir(options.path)) return read_articles(story_directory(options.path), 0);
  check_stories_dir(options);
  std::vector<StoryRef> stories = url_list_stories(options.path, options.stories_dir);
  if (stories.empty()) throw_file_error(options.path, "contains no URLs (format cnndm: one URL per line)");
  const std::size_t missing = remove_missing(stories, options);
  return read_articles(stories, missing);
}

}  // namespace rlhf::data
