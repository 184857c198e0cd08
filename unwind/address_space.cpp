// AddressSpace: which ELF file is mapped where (each opened once, for a live process through the process:
// unwind/mapped_file.h), and the load bias that turns a runtime pc into the file's link-time address.
#include "unwind/address_space.h"

#include <elf.h>
#include <unistd.h>

#include <map>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"
#include "unwind/mapped_file.h"
#include "unwind/process_memory.h"

namespace goperf::unwind {

struct AddressSpace::Entry {
  std::shared_ptr<const symbolize::Module> module;  // null: not usable, see error
  std::optional<Error> error;
};

namespace {

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

AddressSpace::AddressSpace(Mappings mappings, pid_t pid, std::string exe_link)
    : mappings_(std::move(mappings)), pid_(pid), exe_link_(std::move(exe_link)) {
  if (pid_ > 0) memory_ = std::make_unique<ProcessMemory>(pid_);
}
AddressSpace::~AddressSpace() = default;

Result<std::unique_ptr<AddressSpace>> AddressSpace::for_process(pid_t pid) {
  // The link first: an exec between the two reads leaves a link that names no mapping (no executable
  // found, rather than another program's).
  std::string exe = read_link("/proc/" + std::to_string(pid) + "/exe");
  auto maps = Mappings::read_proc(pid);
  if (!maps) return std::move(maps).error();
  return std::make_unique<AddressSpace>(std::move(*maps), pid, std::move(exe));
}

std::unique_ptr<AddressSpace> AddressSpace::from_file_mappings(const std::vector<FileMapping>& files) {
  std::vector<Mapping> ms;
  ms.reserve(files.size());
  for (const auto& f : files) {
    Mapping m;
    m.start = f.start;
    m.end = f.end;
    m.offset = f.offset;
    m.path = f.path;
    m.executable = true;  // NT_FILE has no permissions; the ELF segments decide what is code
    ms.push_back(std::move(m));
  }
  return std::make_unique<AddressSpace>(Mappings(std::move(ms)), 0);
}

std::string AddressSpace::key_of(const Mapping& m) const {
  // Two files can show one path (one deleted, its replacement mapped later): the inode tells them apart.
  if (!m.has_identity()) return m.path;
  return m.path + '\0' + std::to_string(m.dev_major) + ":" + std::to_string(m.dev_minor) + ":" +
         std::to_string(m.inode);
}

void AddressSpace::set_module(const std::string& path, std::shared_ptr<const symbolize::Module> module) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> keys{path};
  for (const auto& m : mappings_.all()) {
    if (m.path == path) keys.push_back(key_of(m));
  }
  for (const auto& key : keys) {
    auto e = std::make_unique<Entry>();
    e->module = module;
    entries_[key] = std::move(e);
  }
}

void AddressSpace::reuse_modules(const AddressSpace& other) {
  if (&other == this) return;
  std::scoped_lock lock(mutex_, other.mutex_);
  for (const auto& [key, entry] : other.entries_) {
    if (entry->module && !entries_.count(key)) entries_.emplace(key, std::make_unique<Entry>(*entry));
  }
}

void AddressSpace::open_executable_files() const {
  for (const auto& m : mappings_.all()) {
    if (m.executable && m.file_backed()) (void)entry_for(m);
  }
}

const AddressSpace::Entry* AddressSpace::entry_for(const Mapping& m) const {
  std::lock_guard lock(mutex_);
  std::string key = key_of(m);
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second.get();
  auto e = std::make_unique<Entry>();
  auto mod = pid_ > 0 ? open_mapped_module(ProcessFiles{pid_, exe_link_, memory_.get()}, m)
                      : symbolize::Module::open(m.display_path());
  if (mod) {
    e->module = std::move(*mod);
  } else {
    e->error = std::move(mod).error();
  }
  const Entry* raw = e.get();
  entries_[key] = std::move(e);
  return raw;
}

std::optional<ModuleRef> AddressSpace::ref_for(const Mapping& m, uint64_t pc) const {
  if (!m.file_backed()) return std::nullopt;
  const Entry* e = entry_for(m);
  if (!e || !e->module) return std::nullopt;
  ModuleRef ref;
  ref.module = e->module.get();
  ref.bias = load_bias(e->module->elf(), m);
  ref.link_pc = pc - ref.bias;
  return ref;
}

std::optional<Error> AddressSpace::open_error(const Mapping& m) const {
  if (!m.file_backed()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key_of(m));
  if (it == entries_.end()) return std::nullopt;
  return it->second->error;
}

std::optional<ModuleRef> AddressSpace::find(uint64_t pc) const {
  const Mapping* m = mappings_.find(pc);
  if (!m) return std::nullopt;
  return ref_for(*m, pc);
}

std::vector<Error> AddressSpace::open_failures() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, Error> by_key;
  for (const auto& [key, entry] : entries_) {
    if (entry->error) by_key.emplace(key, *entry->error);
  }
  std::vector<Error> out;
  for (auto& [key, error] : by_key) out.push_back(std::move(error));
  return out;
}

Result<ModuleRef> AddressSpace::executable() const {
  for (const auto& m : mappings_.all()) {
    if (!m.file_backed() || (!exe_link_.empty() && m.path != exe_link_)) continue;
    if (auto ref = ref_for(m, m.start)) return *ref;
    if (exe_link_.empty()) continue;  // a core: the first file that opens
    if (auto error = open_error(m)) return *error;
    break;
  }
  if (pid_ > 0 && exe_link_.empty())
    return make_error(ErrorCode::kNotFound, "/proc/" + std::to_string(pid_) + "/exe: unreadable (no such process?)");
  return make_error(ErrorCode::kNotFound, "no mapping of the executable " + exe_link_);
}

std::optional<ModuleRef> AddressSpace::main_module() const {
  auto ref = executable();
  if (!ref) return std::nullopt;
  return *ref;
}

std::optional<ModuleRef> AddressSpace::go_module() const {
  auto main = main_module();
  if (main && main->module->is_go()) return main;
  std::string last;
  for (const auto& m : mappings_.all()) {
    // Go code is executable: data files mapped by the program (a database, a locale archive) are not opened.
    if (!m.file_backed() || !m.executable || m.path == last) continue;
    last = m.path;
    auto ref = ref_for(m, m.start);
    if (ref && ref->module->is_go()) return ref;
  }
  return std::nullopt;
}

}  // namespace goperf::unwind
