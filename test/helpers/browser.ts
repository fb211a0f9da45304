import { type Browser, chromium } from 'playwright-core';
import { findChromium, HOW_TO_GET_CHROMIUM } from '../../config/chromium.js';

/** Debian's Chromium (or SWITCHYARD_CHROMIUM), headless, through playwright-core. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(HOW_TO_GET_CHROMIUM);
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}
