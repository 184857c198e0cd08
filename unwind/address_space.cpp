// AddressSpace: which ELF file is mapped where, and the load bias that turns a runtime pc into the
// file's link-time address (bias = mapping start - (segment vaddr + (mapping offset - segment offset))).
#include "unwind/address_space.h"

#include <elf.h>
#include <unistd.h>

#include "symbolize/elf_file.h"
#include "symbolize/module.h"

namespace goperf::unwind {

struct AddressSpace::Entry {
  std::shared_ptr<const symbolize::Module> module;  // null: failed to open
};

namespace {

std::string strip_deleted(const std::string& path) {
  static constexpr std::string_view kSuffix = " (deleted)";
  if (path.size() > kSuffix.size() && path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
    return path.substr(0, path.size() - kSuffix.size());
  return path;
}

}  // namespace

AddressSpace::AddressSpace(Mappings mappings, pid_t pid) : mappings_(std::move(mappings)), pid_(pid) {}
AddressSpace::~AddressSpace() = default;

Result<std::unique_ptr<AddressSpace>> AddressSpace::for_process(pid_t pid) {
  auto maps = Mappings::read_proc(pid);
  if (!maps) return std::move(maps).error();
  return std::make_unique<AddressSpace>(std::move(*maps), pid);
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

void AddressSpace::set_module(const std::string& path, std::shared_ptr<const symbolize::Module> module) {
  std::lock_guard lock(mutex_);
  auto e = std::make_unique<Entry>();
  e->module = std::move(module);
  entries_[path] = std::move(e);
}

const AddressSpace::Entry* AddressSpace::entry_for_path(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(path);
  if (it != entries_.end()) return it->second.get();
  auto e = std::make_unique<Entry>();
  std::string file = strip_deleted(path);
  // Through the target's root so that a process in a container is read from its own files.
  std::string open_path = pid_ > 0 ? "/proc/" + std::to_string(pid_) + "/root" + file : file;
  auto mod = symbolize::Module::open(open_path);
  if (!mod && pid_ > 0) mod = symbolize::Module::open(file);
  if (mod) e->module = std::move(*mod);
  const Entry* raw = e.get();
  entries_[path] = std::move(e);
  return raw;
}

std::optional<ModuleRef> AddressSpace::ref_for(const Mapping& m, uint64_t pc) const {
  if (!m.file_backed()) return std::nullopt;
  const Entry* e = entry_for_path(m.path);
  if (!e || !e->module) return std::nullopt;
  const auto& elf = e->module->elf();
  // The PT_LOAD holding this mapping's file offset gives the link-time address of the mapping start.
  const symbolize::ElfFile::Segment* best = nullptr;
  for (const auto& s : elf.segments()) {
    if (s.type != PT_LOAD) continue;
    uint64_t seg_off = s.offset & ~uint64_t{0xfff};
    uint64_t seg_end = s.offset + std::max(s.filesz, uint64_t{1});
    if (m.offset >= seg_off && m.offset < seg_end) {
      best = &s;
      break;
    }
  }
  ModuleRef ref;
  ref.module = e->module.get();
  if (best) {
    uint64_t link_start = best->vaddr - best->offset + m.offset;
    ref.bias = m.start - link_start;
  } else if (elf.type() == ET_EXEC) {
    ref.bias = 0;
  } else {
    ref.bias = m.start - m.offset;  // a mapping past the file-backed segments: assume vaddr == offset
  }
  ref.link_pc = pc - ref.bias;
  return ref;
}

std::optional<ModuleRef> AddressSpace::find(uint64_t pc) const {
  const Mapping* m = mappings_.find(pc);
  if (!m) return std::nullopt;
  return ref_for(*m, pc);
}

std::optional<ModuleRef> AddressSpace::main_module() const {
  std::string exe;
  if (pid_ > 0) {
    char buf[4096];
    std::string link = "/proc/" + std::to_string(pid_) + "/exe";
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n > 0) exe = std::string(buf, static_cast<size_t>(n));
  }
  for (const auto& m : mappings_.all()) {
    if (!m.file_backed()) continue;
    if (!exe.empty() && m.path != exe && strip_deleted(m.path) != strip_deleted(exe)) continue;
    auto ref = ref_for(m, m.start);
    if (ref) return ref;
    if (!exe.empty()) break;
  }
  return std::nullopt;
}

std::optional<ModuleRef> AddressSpace::go_module() const {
  auto main = main_module();
  if (main && main->module->is_go()) return main;
  std::string last;
  for (const auto& m : mappings_.all()) {
    if (!m.file_backed() || m.path == last) continue;
    last = m.path;
    auto ref = ref_for(m, m.start);
    if (ref && ref->module->is_go()) return ref;
  }
  return std::nullopt;
}

}  // namespace goperf::unwind
