using System.Runtime.CompilerServices;

// ILGPU's CPU emulator builds its launchers in a dynamic assembly of this name; it must see the
// kernels and their argument structs, which stay internal to the engine.
[assembly: InternalsVisibleTo("ILGPURuntime")]
