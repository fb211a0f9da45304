// Images made ready for a model: turned upright by their EXIF orientation, scaled so the long
// side is at most `maxSide` (never enlarged), flattened onto white (JPEG has no transparency),
// re-encoded as JPEG and stripped of every metadata block (EXIF with its GPS position, XMP, ICC).
// `limitInputPixels` refuses a decompression bomb before it is decoded.
import type SharpModule from 'sharp';
import { unreadable } from './errors.js';

export interface ImageOptions {
  maxSide: number;
  quality: number;
  /** Width × height above which an image is refused unread. */
  maxPixels: number;
}

export const DEFAULT_IMAGE_OPTIONS: ImageOptions = { maxSide: 1200, quality: 80, maxPixels: 50_000_000 };

export interface ReadyImage {
  data: Buffer;
  mime: 'image/jpeg';
  width: number;
  height: number;
  /** What was sent, before any change. */
  original: { width: number; height: number; format: string };
}

// sharp (libvips, tens of MB once loaded) loads with the first image, not with every worker
// (issue 13). Each conversion is its own work; libvips' operation cache only holds memory.
let loaded: typeof SharpModule | undefined;
async function sharpLib(): Promise<typeof SharpModule> {
  if (!loaded) {
    loaded = (await import('sharp')).default;
    loaded.cache(false);
  }
  return loaded;
}

export async function prepareImage(
  input: Buffer,
  options: ImageOptions = DEFAULT_IMAGE_OPTIONS,
): Promise<ReadyImage> {
  const sharp = await sharpLib();
  let meta: Awaited<ReturnType<ReturnType<typeof SharpModule>['metadata']>>;
  try {
    meta = await sharp(input, { limitInputPixels: options.maxPixels }).metadata();
  } catch (error) {
    throw unreadable(`the image is damaged or not an image (${describe(error)})`, error);
  }
  const { width, height, format } = meta;
  if (!width || !height || !format) throw unreadable('the image has no size');
  if (width * height > options.maxPixels) {
    throw unreadable(
      `the image is ${width}×${height} (${((width * height) / 1e6).toFixed(0)} MP), more than media.image.maxMegapixels allows`,
    );
  }
  // EXIF orientations 5-8 swap the sides.
  const turned = (meta.orientation ?? 1) >= 5;
  try {
    const { data, info } = await sharp(input, { limitInputPixels: options.maxPixels, failOn: 'error' })
      .rotate()
      .resize({ width: options.maxSide, height: options.maxSide, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: options.quality })
      .toBuffer({ resolveWithObject: true });
    return {
      data,
      mime: 'image/jpeg',
      width: info.width,
      height: info.height,
      original: {
        width: turned ? height : width,
        height: turned ? width : height,
        format: formatName(format),
      },
    };
  } catch (error) {
    throw unreadable(`the image is damaged (${describe(error)})`, error);
  }
}

/** JPEG, PNG, WebP, GIF, HEIF… as people name them. */
export function formatName(format: string): string {
  const names: Record<string, string> = {
    jpeg: 'JPEG',
    jpg: 'JPEG',
    png: 'PNG',
    webp: 'WebP',
    gif: 'GIF',
    heif: 'HEIF',
    avif: 'AVIF',
    tiff: 'TIFF',
    svg: 'SVG',
  };
  return names[format] ?? format.toUpperCase();
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .split('\n')[0]!
    .replace(/^Input buffer /, '')
    .slice(0, 160);
}
