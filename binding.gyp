{
  "variables": {
    # bpf/build.mjs (run first by the install script) leaves the skeleton here when the BPF
    # toolchain was present; without it the addon builds with no BPF support and says so.
    "altrace_bpf%": "<!(node -p \"require('fs').existsSync('bpf/.output/altrace.skel.h') ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "altrace_native",
      "sources": ["native/src/addon.cc", "native/src/sockets.cc", "native/src/digest.cc", "native/src/memory.cc", "native/src/bpf.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"],
      "cflags_cc!": ["-fno-exceptions"],
      "conditions": [
        ["altrace_bpf==1", {
          "sources": [
            "native/src/bpf_errors.cc",
            "native/src/bpf_events.cc",
            "native/src/bpf_netns.cc",
            "native/src/bpf_object.cc"
          ],
          "include_dirs": ["bpf", "bpf/.output"],
          "defines": ["ALTRACE_HAVE_BPF"],
          "libraries": ["-lbpf", "-lelf", "-lz"]
        }]
      ]
    }
  ]
}
