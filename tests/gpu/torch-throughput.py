"""The PyTorch side of tests/gpu/run's throughput: torchvision's ResNet at
the same input, batch, loss and optimiser as gpu-throughput (SGD momentum
0.9, weight decay 5e-4, cross-entropy), images per second of whole steps
after warm-up, TF32 off unless --tf32 (as ours). Exits 77 where PyTorch
with CUDA or torchvision is missing.

  torch-throughput.py MODEL SIZE BATCH STEPS [--tf32]"""
import sys
import time

try:
    import torch
    import torchvision
except Exception as e:  # not installed on this machine
    print(f"SKIP: PyTorch/torchvision not available: {e}")
    sys.exit(77)
if not torch.cuda.is_available():
    print("SKIP: this PyTorch has no CUDA device")
    sys.exit(77)
name, size, batch, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
tf32 = "--tf32" in sys.argv
torch.backends.cuda.matmul.allow_tf32 = tf32
torch.backends.cudnn.allow_tf32 = tf32
torch.backends.cudnn.benchmark = True
classes = 1000 if size >= 128 else 10
model = getattr(torchvision.models, name)(num_classes=classes).cuda()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
x = torch.randn(batch, 3, size, size).cuda()
y = torch.randint(0, classes, (batch,)).cuda()
for i in range(5 + steps):
    if i == 5:
        torch.cuda.synchronize()
        t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    loss.item()  # as ours: the loss reaches the host every step
torch.cuda.synchronize()
dt = time.perf_counter() - t0
print(f"torch {torch.__version__} {name} 3x{size}x{size} batch {batch} on {torch.cuda.get_device_name(0)}"
      f"{' (TF32)' if tf32 else ''}: {steps * batch / dt:.1f} images/s ({1e3 * dt / steps:.1f} ms/step)")
