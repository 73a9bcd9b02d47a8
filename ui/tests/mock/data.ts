// Seed data for the fake backend: models, chats, settings, devices, and drawn images.
import type { Chat, DemoSample, DeviceInfo, ImageRef, Message, ModelEntry, SampleQuestion, Settings } from '../../src/services/types';

const DATA_DIR = '/home/ada/.local/share/dev.iris.app/models';

export function model(id: string, patch: Partial<ModelEntry> = {}): ModelEntry {
  return {
    id,
    name: id,
    path: `${DATA_DIR}/${id}`,
    family: 'LLaVA-1.5',
    modelType: 'llava',
    sizeBytes: 14_100_000_000,
    dtype: 'f16',
    parameters: 7_063_427_072,
    runnable: true,
    problem: null,
    source: 'downloaded',
    ...patch,
  };
}

export function defaultModels(): ModelEntry[] {
  return [
    model('llava-1.5-7b-hf', { name: 'llava-hf/llava-1.5-7b-hf' }),
    model('blip2-opt-2.7b', {
      name: 'Salesforce/blip2-opt-2.7b', family: 'BLIP-2', modelType: 'blip-2',
      sizeBytes: 15_500_000_000, dtype: 'f32', parameters: 3_744_761_856,
    }),
    model('paligemma-3b', {
      name: 'paligemma-3b', family: 'unknown', modelType: 'paligemma', source: 'imported',
      sizeBytes: 5_860_000_000, dtype: 'bf16', parameters: 2_923_335_408, runnable: false,
      problem: 'Iris cannot run `paligemma` models yet.',
    }),
  ];
}

/** The built-in demo model as the shell lists it. */
export function builtinModel(): ModelEntry {
  return model('iris-shapes', {
    name: 'Iris shapes — built-in demo', family: 'BLIP-2', modelType: 'blip-2',
    sizeBytes: 6_040_456, dtype: 'f32', parameters: 1_508_864, source: 'builtin',
  });
}

type Shape = { kind: 'circle' | 'square' | 'triangle'; colour: string; x: number; y: number; r: number };

/** The fake sample scenes: shapes, a word, and questions with the answers the scene implies. */
export const SAMPLE_SCENES: { file: string; shapes: Shape[]; word: string; questions: SampleQuestion[] }[] = [
  {
    file: 'scene-1.png', word: 'wolf',
    shapes: [{ kind: 'circle', colour: '#2fb34a', x: 0.3, y: 0.7, r: 0.12 }, { kind: 'square', colour: '#f08a24', x: 0.65, y: 0.35, r: 0.16 }],
    questions: [
      { question: 'What colour is the circle?', answer: 'green' },
      { question: 'How many shapes are there?', answer: 'two' },
      { question: 'What word is written?', answer: 'wolf' },
    ],
  },
  {
    file: 'scene-2.png', word: 'rose',
    shapes: [{ kind: 'square', colour: '#f2d024', x: 0.35, y: 0.4, r: 0.18 }, { kind: 'triangle', colour: '#2fb34a', x: 0.7, y: 0.65, r: 0.16 }],
    questions: [
      { question: 'What colour is the square?', answer: 'yellow' },
      { question: 'Is the green triangle on the left or the right?', answer: 'right' },
    ],
  },
  ...[3, 4, 5, 6].map((n) => ({
    file: `scene-${n}.png`, word: ['sun', 'moon', 'dog', 'cat'][n - 3],
    shapes: [{ kind: 'circle' as const, colour: ['#e8e8e8', '#f2d024', '#d93a3a', '#3a6fd9'][n - 3], x: 0.5, y: 0.45, r: 0.14 }],
    questions: [{ question: 'What colour is the circle?', answer: ['white', 'yellow', 'red', 'blue'][n - 3] }],
  })),
];

/** A scene drawn as the demo's: shapes on a dark ground with a word under them. */
function drawScene(shapes: Shape[], word: string, size: number): string {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#202028';
  g.fillRect(0, 0, size, size);
  for (const s of shapes) {
    g.fillStyle = s.colour;
    const [x, y, r] = [s.x * size, s.y * size, s.r * size];
    g.beginPath();
    if (s.kind === 'circle') g.arc(x, y, r, 0, Math.PI * 2);
    else if (s.kind === 'square') g.rect(x - r, y - r, 2 * r, 2 * r);
    else { g.moveTo(x, y - r); g.lineTo(x + r, y + r); g.lineTo(x - r, y + r); g.closePath(); }
    g.fill();
  }
  g.fillStyle = '#ffffff';
  g.font = `bold ${Math.round(size * 0.1)}px sans-serif`;
  g.fillText(word, size * 0.08, size * 0.94);
  return canvas.toDataURL('image/png');
}

/** The samples `demo_samples` returns, their images staged in `images`. */
export function demoSamples(images: Map<string, StoredImage>): DemoSample[] {
  return SAMPLE_SCENES.map((scene, i) => {
    const full = drawScene(scene.shapes, scene.word, 256);
    const image = makeImage(`img-sample-${i + 1}`, scene.file, 256, 256, full);
    images.set(image.ref.id, image);
    return { name: `Scene ${i + 1}`, image: image.ref, questions: scene.questions };
  });
}

export function defaultSettings(): Settings {
  return {
    device: 'auto', precision: 'f16', maxNewTokens: 512, temperature: 0, topK: 0, topP: 1,
    seed: null, theme: 'light', hubUrl: 'https://huggingface.co',
  };
}

export function defaultDevices(): DeviceInfo[] {
  return [
    { id: 'gpu:0', name: 'NVIDIA GeForce RTX 4070', kind: 'DiscreteGpu', backend: 'Vulkan' },
    { id: 'cpu', name: 'CPU', kind: 'Cpu', backend: 'ndarray' },
  ];
}

/** A picture drawn on a canvas (a sky, a sun and hills in colours taken from `name`). */
export function drawImage(name: string, width: number, height: number): string {
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const hue = hash % 360;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d')!;
  const sky = g.createLinearGradient(0, 0, 0, height);
  sky.addColorStop(0, `hsl(${hue} 70% 72%)`);
  sky.addColorStop(1, `hsl(${(hue + 40) % 360} 75% 88%)`);
  g.fillStyle = sky;
  g.fillRect(0, 0, width, height);
  g.fillStyle = `hsl(${(hue + 180) % 360} 85% 60%)`;
  g.beginPath();
  g.arc(width * 0.72, height * 0.3, Math.min(width, height) * 0.12, 0, Math.PI * 2);
  g.fill();
  g.fillStyle = `hsl(${(hue + 100) % 360} 35% 38%)`;
  g.beginPath();
  g.moveTo(0, height);
  g.quadraticCurveTo(width * 0.3, height * 0.45, width * 0.6, height * 0.8);
  g.quadraticCurveTo(width * 0.8, height * 0.6, width, height * 0.75);
  g.lineTo(width, height);
  g.fill();
  return canvas.toDataURL('image/png');
}

export type StoredImage = { ref: ImageRef; full: string };

export function makeImage(id: string, name: string, width = 1024, height = 768, full?: string): StoredImage {
  return {
    ref: { id, name, width, height, thumb: full ?? drawImage(name, 160, 120) },
    full: full ?? drawImage(name, 640, 480),
  };
}

function message(id: string, role: Message['role'], text: string, createdAt: number, images: ImageRef[] = []): Message {
  return {
    id, role, text, images, status: 'done', error: null, createdAt,
    stats: role === 'assistant' ? { tokens: text.split(/\s+/).length, tokensPerSecond: 14.2, promptTokens: 612, imageTokens: 576 } : null,
  };
}

export function defaultChats(now: number, images: Map<string, StoredImage>): Chat[] {
  const dog = makeImage('img-seed-dog', 'dog-in-park.jpg');
  const receipt = makeImage('img-seed-receipt', 'receipt.png', 900, 1400);
  images.set(dog.ref.id, dog);
  images.set(receipt.ref.id, receipt);
  const hour = 3_600_000;
  return [
    {
      id: 'chat-dog', title: 'What breed is this dog?', modelId: 'llava-1.5-7b-hf',
      createdAt: now - 2 * hour, updatedAt: now - hour, messageCount: 4,
      messages: [
        message('m-dog-1', 'user', 'What breed is this dog?', now - 2 * hour, [dog.ref]),
        message('m-dog-2', 'assistant', 'It looks like a **border collie**: black and white coat, medium build and the typical alert ears.', now - 2 * hour + 4000),
        message('m-dog-3', 'user', 'Is it a puppy?', now - hour),
        message('m-dog-4', 'assistant', 'Probably not. Its proportions and the size compared to the bench suggest an adult dog.', now - hour + 3000),
      ],
    },
    {
      id: 'chat-receipt', title: 'Receipt total', modelId: 'blip2-opt-2.7b',
      createdAt: now - 50 * hour, updatedAt: now - 48 * hour, messageCount: 2,
      messages: [
        message('m-rc-1', 'user', 'What is the total on this receipt?', now - 50 * hour, [receipt.ref]),
        message('m-rc-2', 'assistant', 'The total is `$42.17`, paid by card.', now - 50 * hour + 5000),
      ],
    },
  ];
}

/** The Markdown the fake OCR reads from page `page` (0-based) of any document. */
export function pageMarkdown(page: number): string {
  const texts = [
    '# Quarterly report\n\nSales rose by **12%** in the third quarter.',
    '## Costs\n\nShipping costs fell to `4.1%` of revenue.',
    'Signed: **Ada Lovelace**, London.',
  ];
  return texts[page % texts.length];
}

/** `pageMarkdown` without its Markdown syntax, as the shell's plain-text export. */
export function pageText(page: number): string {
  return pageMarkdown(page).replace(/^#+\s*/gm, '').replace(/\*\*|`/g, '');
}

/** A drawn document page: white paper, a title bar and grey text lines (`maxSide` px on its long side). */
export function drawPage(seed: string, page: number, width: number, height: number, maxSide: number): string {
  const scale = maxSide / Math.max(width, height);
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, w, h);
  const m = w * 0.1;
  let hash = page * 7919;
  for (const c of seed) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  g.fillStyle = `hsl(${hash % 360} 55% 42%)`;
  g.fillRect(m, h * 0.08, w * 0.55, h * 0.035);
  g.fillStyle = '#9a9aa6';
  for (let i = 0, y = h * 0.17; y < h * 0.9; i++, y += h * 0.032) {
    if (i % 7 === 6) continue; // paragraph break
    const ragged = ((hash >> (i % 16)) & 7) / 40;
    g.fillRect(m, y, (w - 2 * m) * (i % 7 === 5 ? 0.55 : 1 - ragged), Math.max(1, h * 0.012));
  }
  g.font = `${Math.max(8, Math.round(h * 0.025))}px sans-serif`;
  g.fillStyle = '#6b6b78';
  g.fillText(String(page + 1), w / 2 - h * 0.008, h * 0.96);
  return canvas.toDataURL('image/png');
}
