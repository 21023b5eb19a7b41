console.log('mine')
