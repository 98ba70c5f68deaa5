{
  "targets": [
    {
      "target_name": "kscale",
      "sources": ["native/addon.cc", "native/fsync_probe.cc", "native/bpf_probe.cc", "native/bpf_loader.cc", "native/traffic.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "libraries": ["-lbpf"]
    }
  ]
}
